// A store's durability (kinesis/metadata, cognito): the whole state is one JSON file, replaced atomically on every mutation
// (write a temp file, fsync it, rename it over the old one, fsync the directory so the rename
// itself survives a crash). Saves that arrive while one is being written share the next write,
// which always serialises the latest state, so a burst of mutations costs two writes, not N.
import fs from 'node:fs/promises'
import path from 'node:path'

export class AtomicJsonFile {
  readonly file: string
  #snapshot: () => unknown
  #writing: Promise<void> | undefined
  #next: Promise<void> | undefined

  constructor(file: string, snapshot: () => unknown) {
    this.file = file
    this.#snapshot = snapshot
  }

  /** The parsed file, or undefined when it does not exist yet. A corrupt file is an error, never an empty store. */
  async read(): Promise<unknown> {
    let text: string
    try {
      text = await fs.readFile(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    try {
      return JSON.parse(text)
    } catch (err) {
      throw new Error(`${this.file} is not valid JSON: ${(err as Error).message}`, { cause: err })
    }
  }

  /** Resolves once a write that started after this call is durable. */
  save(): Promise<void> {
    if (!this.#writing) {
      this.#writing = this.#write().finally(() => (this.#writing = undefined))
      return this.#writing
    }
    // A write is in flight and may have serialised the state before this mutation: queue one more.
    this.#next ??= this.#writing
      .catch(() => {})
      .then(() => {
        this.#next = undefined
        return this.save()
      })
    return this.#next
  }

  /** Waits for every save asked for so far. */
  async flush(): Promise<void> {
    await this.#next?.catch(() => {})
    await this.#writing?.catch(() => {})
  }

  async #write(): Promise<void> {
    const data = JSON.stringify(this.#snapshot(), null, 1)
    const dir = path.dirname(this.file)
    const tmp = `${this.file}.tmp`
    await fs.mkdir(dir, { recursive: true })
    const fh = await fs.open(tmp, 'w')
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await fs.rename(tmp, this.file)
    const dh = await fs.open(dir, 'r')
    try {
      await dh.sync()
    } finally {
      await dh.close()
    }
  }
}
