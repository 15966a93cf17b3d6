// The ECS API subset (JSON 1.1, AmazonEC2ContainerServiceV20141113.*) that @aws-sdk/client-ecs
// speaks: services (create, update, describe, delete) and their tasks (list, describe). Errors are
// ECS's own types; anything unexpected is a ServerException (500), as ECS answers.
import { AwsError, type Operation } from '../kit/index.js'
import type { Cluster } from './cluster.js'
import { clusterArn, DEFAULT_CLUSTER, DEFAULT_TASK_DEFINITION, type EcsService, type Task } from './model.js'

export const EcsErrors = {
  ClientException: (m: string) => new AwsError('ClientException', 400, m),
  InvalidParameterException: (m: string) => new AwsError('InvalidParameterException', 400, m),
  ClusterNotFoundException: () => new AwsError('ClusterNotFoundException', 400, 'Cluster not found.'),
  ServiceNotFoundException: () => new AwsError('ServiceNotFoundException', 400, 'Service not found.'),
  ServiceNotActiveException: () => new AwsError('ServiceNotActiveException', 400, 'Service was not ACTIVE.'),
  ServerException: (m: string) => new AwsError('ServerException', 500, m),
}

const TASK_DEFINITION_ARN = `arn:aws:ecs:us-east-1:000000000000:task-definition/${DEFAULT_TASK_DEFINITION}`
const KNOWN_TASK_DEFINITIONS = new Set([DEFAULT_TASK_DEFINITION, DEFAULT_TASK_DEFINITION.split(':')[0], TASK_DEFINITION_ARN])
const SERVICE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,254}$/
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000)

export function ecsOperations(cluster: Cluster, onDemand: (svc: EcsService) => void = () => {}): Record<string, Operation> {
  const ops: Record<string, Operation> = {
    CreateService(input) {
      checkCluster(input.cluster)
      const name = input.serviceName
      if (typeof name !== 'string' || name === '') throw EcsErrors.InvalidParameterException('serviceName can not be blank.')
      if (!SERVICE_NAME.test(name))
        throw EcsErrors.InvalidParameterException(
          'Service name must begin with a letter and contain only letters, numbers, hyphens and underscores (up to 255).',
        )
      const desired = desiredCount(input.desiredCount ?? 0, cluster.maxTasks)
      const existing = cluster.services.get(name)
      if (existing && existing.status !== 'INACTIVE') throw EcsErrors.InvalidParameterException('Creation of service was not idempotent.')
      // One task definition is registered on this host: the task app.
      if (input.taskDefinition !== undefined && (typeof input.taskDefinition !== 'string' || !KNOWN_TASK_DEFINITIONS.has(input.taskDefinition)))
        throw EcsErrors.ClientException('Unable to describe task definition.')
      const svc = cluster.createService(name, desired, DEFAULT_TASK_DEFINITION)
      onDemand(svc)
      return { service: describeService(cluster, svc) }
    },
    UpdateService(input) {
      const svc = activeService(input.service, input.cluster)
      if (input.desiredCount !== undefined) {
        cluster.setDesired(svc, desiredCount(input.desiredCount, cluster.maxTasks), 'api')
        onDemand(svc)
      }
      return { service: describeService(cluster, svc) }
    },
    DescribeServices(input) {
      checkCluster(input.cluster)
      const names = input.services
      if (!Array.isArray(names) || names.length === 0) throw EcsErrors.InvalidParameterException('Services cannot be empty.')
      if (names.length > 10) throw EcsErrors.InvalidParameterException('Services cannot contain more than 10 elements.')
      const services = []
      const failures = []
      for (const ref of names) {
        const svc = typeof ref === 'string' ? cluster.services.get(serviceName(ref)) : undefined
        if (svc) services.push(describeService(cluster, svc))
        else
          failures.push({ arn: String(ref).startsWith('arn:') ? String(ref) : `${clusterArn().replace(':cluster/', ':service/')}/${ref}`, reason: 'MISSING' })
      }
      return { services, failures }
    },
    ListServices(input) {
      checkCluster(input.cluster)
      return { serviceArns: [...cluster.services.values()].filter((s) => s.status !== 'INACTIVE').map((s) => s.arn) }
    },
    DeleteService(input) {
      const svc = findService(input.service, input.cluster)
      if (svc.status === 'INACTIVE') throw EcsErrors.ServiceNotActiveException()
      if (svc.desiredCount > 0 && input.force !== true) throw EcsErrors.InvalidParameterException('The service cannot be stopped while it is scaled above 0.')
      cluster.deleteService(svc)
      return { service: describeService(cluster, svc) }
    },
    ListTasks(input) {
      checkCluster(input.cluster)
      const desired = input.desiredStatus ?? 'RUNNING'
      if (!(['RUNNING', 'PENDING', 'STOPPED'] as unknown[]).includes(desired))
        throw EcsErrors.InvalidParameterException(`desiredStatus must be one of RUNNING, PENDING, STOPPED.`)
      let svcName: string | undefined
      if (input.serviceName !== undefined) {
        svcName = serviceName(String(input.serviceName))
        if (!cluster.services.has(svcName)) throw EcsErrors.ServiceNotFoundException()
      }
      const tasks = [...cluster.tasks.values()].filter(
        (t) => (svcName === undefined || t.service === svcName) && (desired === 'STOPPED' ? t.desiredStatus === 'STOPPED' : t.desiredStatus === 'RUNNING'),
      )
      return { taskArns: tasks.map((t) => t.arn) }
    },
    DescribeTasks(input) {
      checkCluster(input.cluster)
      const refs = input.tasks
      if (!Array.isArray(refs) || refs.length === 0) throw EcsErrors.InvalidParameterException('Tasks cannot be empty.')
      if (refs.length > 100) throw EcsErrors.InvalidParameterException('Tasks cannot contain more than 100 elements.')
      const tasks = []
      const failures = []
      for (const ref of refs) {
        const task =
          typeof ref === 'string' ? (cluster.tasks.get(ref) ?? cluster.tasks.get(`${clusterArn().replace(':cluster/', ':task/')}/${ref}`)) : undefined
        if (task) tasks.push(describeTask(task))
        else failures.push({ arn: String(ref), reason: 'MISSING' })
      }
      return { tasks, failures }
    },
  }

  function findService(ref: unknown, clusterRef: unknown): EcsService {
    checkCluster(clusterRef)
    if (typeof ref !== 'string' || ref === '') throw EcsErrors.InvalidParameterException('service can not be blank.')
    const svc = cluster.services.get(serviceName(ref))
    if (!svc) throw EcsErrors.ServiceNotFoundException()
    return svc
  }

  function activeService(ref: unknown, clusterRef: unknown): EcsService {
    const svc = findService(ref, clusterRef)
    if (svc.status !== 'ACTIVE') throw EcsErrors.ServiceNotActiveException()
    return svc
  }

  // Anything unexpected answers as ECS does: ServerException, 500.
  return Object.fromEntries(
    Object.entries(ops).map(([name, op]) => [
      name,
      async (input, ctx) => {
        try {
          return await op(input, ctx)
        } catch (err) {
          if (err instanceof AwsError) throw err
          throw EcsErrors.ServerException(`Internal error: ${(err as Error)?.message ?? String(err)}`)
        }
      },
    ]),
  )
}

/** Only the default cluster exists (by name or ARN). */
function checkCluster(ref: unknown): void {
  if (ref === undefined || ref === null || ref === DEFAULT_CLUSTER || ref === clusterArn()) return
  throw EcsErrors.ClusterNotFoundException()
}

/** A service by name or ARN (arn:aws:ecs:...:service/default/NAME). */
function serviceName(ref: string): string {
  return ref.startsWith('arn:') ? ref.slice(ref.lastIndexOf('/') + 1) : ref
}

function desiredCount(n: unknown, maxTasks: number): number {
  if (!Number.isInteger(n) || (n as number) < 0) throw EcsErrors.InvalidParameterException('desiredCount must be an integer >= 0.')
  if ((n as number) > maxTasks) throw EcsErrors.InvalidParameterException(`desiredCount can not exceed ${maxTasks} on this host (MAX_TASKS).`)
  return n as number
}

export function describeService(cluster: Cluster, svc: EcsService) {
  const { desired, running, pending } = cluster.counts(svc)
  return {
    serviceArn: svc.arn,
    serviceName: svc.name,
    clusterArn: clusterArn(),
    status: svc.status,
    desiredCount: desired,
    runningCount: running,
    pendingCount: pending,
    launchType: 'EC2',
    taskDefinition: TASK_DEFINITION_ARN,
    schedulingStrategy: 'REPLICA',
    createdAt: seconds(svc.createdAtMs),
    events: svc.events.map((e) => ({ id: e.id, createdAt: seconds(e.createdAtMs), message: e.message })),
  }
}

export function describeTask(task: Task) {
  return {
    taskArn: task.arn,
    clusterArn: clusterArn(),
    taskDefinitionArn: TASK_DEFINITION_ARN,
    group: `service:${task.service}`,
    startedBy: 'ecs-svc/outage-lab',
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
    launchType: 'EC2',
    createdAt: seconds(task.createdAtMs),
    startedAt: seconds(task.startedAtMs),
    stoppingAt: seconds(task.stoppingAtMs),
    stoppedAt: seconds(task.stoppedAtMs),
    stoppedReason: task.stoppedReason,
    containers: [
      {
        containerArn: task.arn.replace(':task/', ':container/'),
        taskArn: task.arn,
        name: 'app',
        lastStatus: task.lastStatus,
        runtimeId: task.pid === undefined ? undefined : String(task.pid),
        networkBindings:
          task.port === undefined || task.lastStatus === 'STOPPED'
            ? []
            : [{ bindIP: '127.0.0.1', containerPort: task.port, hostPort: task.port, protocol: 'tcp' }],
      },
    ],
  }
}
