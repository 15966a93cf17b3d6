// What the harness scrapes from the store: how much it holds and how fast it changes (version).
import { Gauge, type Registry } from 'prom-client'
import type { MetadataStore } from './store.js'

export function storeMetrics(registry: Registry, store: MetadataStore): void {
  new Gauge({
    name: 'kinesis_metadata_streams',
    help: 'Streams in the authoritative store',
    registers: [registry],
    collect() {
      this.set(store.streamNames().length)
    },
  })
  new Gauge({
    name: 'kinesis_metadata_backends',
    help: 'Registered back-ends',
    registers: [registry],
    collect() {
      this.set(store.backends().length)
    },
  })
  new Gauge({
    name: 'kinesis_metadata_members',
    help: 'Registered members per fleet',
    labelNames: ['fleet'],
    registers: [registry],
    collect() {
      this.reset()
      for (const fleet of store.fleets()) this.set({ fleet }, store.members(fleet).length)
    },
  })
  new Gauge({
    name: 'kinesis_metadata_version',
    help: 'Store version, bumped by every mutation but heartbeats',
    registers: [registry],
    collect() {
      this.set(store.version)
    },
  })
}
