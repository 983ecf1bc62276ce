/**
 * `expt eval`: evaluate one mapping with the built-in model.
 */
export async function runEval(argv: string[]): Promise<number> {
  void argv;
  process.stderr.write('expt eval: not implemented\n');
  return 2;
}
