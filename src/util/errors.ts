/**
 * Errors caused by the user's input (a bad file, a missing field, an unknown
 * command). The CLI prints them as one line, without a stack trace, and exits
 * with code 2. Anything else that escapes is a bug: stack trace, exit code 1.
 */
export class UserError extends Error {
  constructor(
    message: string,
    /** The file the problem is in, as the user named it. */
    public readonly file?: string,
    /** Where in the file: a field path (`architecture.subtree[0].local[1]`) or `line 12`. */
    public readonly field?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }

  /** One line: `file: field: message`, leaving out the parts that are not known. */
  format(): string {
    const parts: string[] = [];
    if (this.file !== undefined && this.file !== '') parts.push(this.file);
    if (this.field !== undefined && this.field !== '') parts.push(this.field);
    parts.push(this.message);
    return oneLine(parts.join(': '));
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

/**
 * Collapses newlines so that a message always prints as a single line, and
 * shows other control characters as `\xNN` escapes: a message may quote bytes
 * of a bad input file, which must not reach the terminal raw (escape
 * sequences, a bell, a carriage return hiding the start of the line).
 */
export function oneLine(text: string): string {
  return printable(text.replace(/\s*\r?\n\s*/g, ' ').replace(/\t/g, ' ').trim());
}

/** Control characters (C0 but newline, DEL, C1) and bidi overrides as visible escapes. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
