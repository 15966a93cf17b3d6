// post-status: an operator posts a public update on the status page, by its primary path (signed
// in through Cognito) or its backup path (the operator key, no Cognito).
import { ActionFailed, defineProvider } from '../provider.js'

export const STATUS_PATHS = ['primary', 'backup'] as const

export type PostStatusArgs = {
  path: (typeof STATUS_PATHS)[number]
  message: string
}

export const postStatus = defineProvider<'post-status', PostStatusArgs>({
  name: 'post-status',
  args: {
    keys: ['path', 'message'],
    shape: '{path, message}',
    read: (c, a, path) => ({ path: c.oneOf(a, 'path', path, STATUS_PATHS) ?? 'primary', message: c.string(a, 'message', path, { required: true }) ?? '' }),
    references(_args, run, path) {
      if (!run.runs('status-page')) run.badText(path, 'status-page in topology.services to post to', 'no status-page')
    },
  },
  async run(args, ctx) {
    if (!ctx.postStatus) throw new ActionFailed('post-status', 'the status page is not part of this topology')
    return ctx.postStatus(args)
  },
})
