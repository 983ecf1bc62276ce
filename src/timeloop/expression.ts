/**
 * A small, safe evaluator for the arithmetic that timeloopfe (through
 * Accelergy's `parse_expression_for_arithmetic`, which calls Python's `eval`)
 * accepts in attribute values: `262144*2`, `2**14`, `(16384*4)//(1024)`,
 * `24*2**20`, `max(EMBEDDING, SEQ_LENGTH)`, `depth * 2` with names taken from
 * a scope (variables, container attributes, earlier attributes of the same
 * component). No `eval`: the text is tokenized and parsed here.
 *
 * Grammar and semantics follow Python 3:
 *   expr   := term (('+' | '-') term)*
 *   term   := unary (('*' | '/' | '//' | '%') unary)*
 *   unary  := ('-' | '+') unary | power
 *   power  := atom ('**' unary)?          (right-associative; -2**2 = -4)
 *   atom   := number | name | name '(' args ')' | '(' expr ')'
 * `/` is true division, `//` floors, `%` takes the sign of the divisor.
 * Names: the scope's numbers and booleans, `True`, `False`, and the
 * functions min, max, abs, round, int, float, ceil, floor, log, log2, log10,
 * sqrt, exp (also as `math.ceil` etc.).
 */

export type ExpressionValue = number | boolean;

/** Outcome of {@link tryEvaluate}: a value, or why the text is not an expression. */
export type EvaluationResult =
  | { readonly ok: true; readonly value: ExpressionValue }
  | { readonly ok: false; readonly reason: string; readonly unknownName?: string };

class ExpressionError extends Error {
  constructor(
    message: string,
    readonly unknownName?: string,
  ) {
    super(message);
  }
}

type Token = { kind: 'num'; value: number; text: string } | { kind: 'name'; text: string } | { kind: 'op'; text: string };

const TOKEN = /\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)|(\*\*|\/\/|[-+*/%(),]))/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) throw new ExpressionError(`unexpected '${text.slice(pos).trim()[0]}' at position ${pos + 1}`);
    if (m[1] !== undefined) tokens.push({ kind: 'num', value: Number(m[1]), text: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: 'name', text: m[2] });
    else tokens.push({ kind: 'op', text: m[3] });
    pos = TOKEN.lastIndex;
  }
  return tokens;
}

const FUNCTIONS: Readonly<Record<string, (...args: number[]) => number>> = {
  min: (...a) => {
    if (a.length === 0) throw new ExpressionError('min() needs at least one argument');
    return Math.min(...a);
  },
  max: (...a) => {
    if (a.length === 0) throw new ExpressionError('max() needs at least one argument');
    return Math.max(...a);
  },
  abs: (x) => Math.abs(x),
  // Python rounds half to even.
  round: (x) => {
    const f = Math.floor(x);
    const d = x - f;
    if (d > 0.5) return f + 1;
    if (d < 0.5) return f;
    return f % 2 === 0 ? f : f + 1;
  },
  int: (x) => Math.trunc(x),
  float: (x) => x,
  ceil: (x) => Math.ceil(x),
  floor: (x) => Math.floor(x),
  log: (x, base) => (base === undefined ? Math.log(x) : Math.log(x) / Math.log(base)),
  log2: (x) => Math.log2(x),
  log10: (x) => Math.log10(x),
  sqrt: (x) => Math.sqrt(x),
  exp: (x) => Math.exp(x),
};

function toNumber(v: ExpressionValue): number {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly scope: (name: string) => ExpressionValue | undefined,
  ) {}

  parse(): ExpressionValue {
    if (this.tokens.length === 0) throw new ExpressionError('empty expression');
    const v = this.expr();
    if (this.i < this.tokens.length) throw new ExpressionError(`unexpected '${this.tokens[this.i].text}'`);
    return v;
  }

  private peekOp(...ops: string[]): string | undefined {
    const t = this.tokens[this.i];
    return t !== undefined && t.kind === 'op' && ops.includes(t.text) ? t.text : undefined;
  }

  private expr(): ExpressionValue {
    let v = this.term();
    for (let op = this.peekOp('+', '-'); op !== undefined; op = this.peekOp('+', '-')) {
      this.i++;
      const r = toNumber(this.term());
      v = op === '+' ? toNumber(v) + r : toNumber(v) - r;
    }
    return v;
  }

  private term(): ExpressionValue {
    let v = this.unary();
    for (let op = this.peekOp('*', '/', '//', '%'); op !== undefined; op = this.peekOp('*', '/', '//', '%')) {
      this.i++;
      const a = toNumber(v);
      const b = toNumber(this.unary());
      if (op === '*') v = a * b;
      else {
        if (b === 0) throw new ExpressionError('division by zero');
        if (op === '/') v = a / b;
        else if (op === '//') v = Math.floor(a / b);
        else v = a - b * Math.floor(a / b);
      }
    }
    return v;
  }

  private unary(): ExpressionValue {
    const op = this.peekOp('-', '+');
    if (op !== undefined) {
      this.i++;
      const v = toNumber(this.unary());
      return op === '-' ? -v : v;
    }
    return this.power();
  }

  private power(): ExpressionValue {
    const base = this.atom();
    if (this.peekOp('**') !== undefined) {
      this.i++;
      const exponent = toNumber(this.unary());
      return toNumber(base) ** exponent;
    }
    return base;
  }

  private atom(): ExpressionValue {
    const t = this.tokens[this.i];
    if (t === undefined) throw new ExpressionError('unexpected end of expression');
    if (t.kind === 'num') {
      this.i++;
      return t.value;
    }
    if (t.kind === 'op') {
      if (t.text !== '(') throw new ExpressionError(`unexpected '${t.text}'`);
      this.i++;
      const v = this.expr();
      if (this.peekOp(')') === undefined) throw new ExpressionError("missing ')'");
      this.i++;
      return v;
    }
    this.i++;
    const name = t.text;
    if (this.peekOp('(') !== undefined) {
      this.i++;
      const fname = name.startsWith('math.') ? name.slice(5) : name;
      const f = FUNCTIONS[fname];
      if (!f) throw new ExpressionError(`unknown function '${name}'`, name);
      const args: number[] = [];
      if (this.peekOp(')') === undefined) {
        for (;;) {
          args.push(toNumber(this.expr()));
          if (this.peekOp(',') === undefined) break;
          this.i++;
        }
      }
      if (this.peekOp(')') === undefined) throw new ExpressionError(`missing ')' after the arguments of ${name}`);
      this.i++;
      return f(...args);
    }
    if (name === 'True') return true;
    if (name === 'False') return false;
    const v = this.scope(name);
    if (v === undefined) throw new ExpressionError(`unknown name '${name}'`, name);
    return v;
  }
}

/** A scope as a plain object: only number and boolean entries are visible. */
export function scopeOf(...objects: readonly Readonly<Record<string, unknown>>[]): (name: string) => ExpressionValue | undefined {
  return (name) => {
    for (let i = objects.length - 1; i >= 0; i--) {
      const v = objects[i][name];
      if (typeof v === 'number' || typeof v === 'boolean') return v;
    }
    return undefined;
  };
}

/** Evaluates `text`; never throws. */
export function tryEvaluate(text: string, scope: (name: string) => ExpressionValue | undefined = () => undefined): EvaluationResult {
  try {
    const value = new Parser(tokenize(text), scope).parse();
    if (typeof value === 'number' && !Number.isFinite(value)) return { ok: false, reason: 'the result is not a finite number' };
    return { ok: true, value };
  } catch (e) {
    if (e instanceof ExpressionError) return { ok: false, reason: e.message, unknownName: e.unknownName };
    throw e;
  }
}

/**
 * timeloopfe's rule for a string value: evaluate it as arithmetic; if that
 * fails (`"32nm"`, `"LPDDR4"`, `"1ns"`), keep the string.
 */
export function evaluateOrKeep(value: unknown, scope: (name: string) => ExpressionValue | undefined): unknown {
  if (typeof value !== 'string') return value;
  const r = tryEvaluate(value, scope);
  return r.ok ? r.value : value;
}
