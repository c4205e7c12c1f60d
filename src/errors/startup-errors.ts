/**
 * Why the server cannot start, for a reason the operator fixes outside Authly (another process holds what
 * it needs). Entry points print the message as one line and exit 1, without a stack trace.
 */
export class StartupError extends Error {}

/** Another live process has the embedded database's data directory open (src/db/data-dir-lock.ts). */
export class DataDirectoryInUse extends StartupError {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`data directory in use by pid ${pid}: ${dataDir} (stop that process, or set AUTHLY_DATA_DIR to another directory)`);
  }
}

/** The listening address is taken (EADDRINUSE). */
export class PortInUse extends StartupError {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`port ${port} on ${host} is in use (set PORT or stop the other process)`);
  }
}
