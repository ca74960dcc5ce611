/** Busy for `rounds` steps in one workflow task: long enough to outlast a short deadlock bound. */
export async function spinning(rounds: number): Promise<number> {
  let x = 0;
  for (let i = 0; i < rounds; i++) x = (x * 31 + i) | 0;
  return x;
}
