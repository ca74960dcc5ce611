/** Busy for `rounds` steps in one workflow task, then done. */
export async function spinning(rounds: number): Promise<number> {
  let x = 0;
  for (let i = 0; i < rounds; i++) x = (x * 31 + i) | 0;
  return x;
}

/** A workflow caught in a loop: its first task never yields. */
export async function loopingForever(): Promise<never> {
  let x = 0;
  for (;;) x = (x * 31 + 1) | 0;
}
