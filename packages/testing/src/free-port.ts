import { cliModule } from './cli-module.js';

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return (await cliModule()).freePort('127.0.0.1');
}
