/**
 * Where a JSON text stops being valid JSON. JSON.parse's message carries the offset only for some
 * errors in this V8 ("Unexpected token ... is not valid JSON" and "Unexpected end of JSON input"
 * carry none), so after a failed parse this scanner walks the grammar (RFC 8259) to find the first
 * offending character, letting errors name the line and column.
 */

class Scanner {
  i = 0;
  constructor(private readonly s: string) {}

  private fail(): never {
    throw this.i;
  }

  private ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i]!)) this.i++;
  }

  private expect(ch: string): void {
    if (this.s[this.i] !== ch) this.fail();
    this.i++;
  }

  value(): void {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') this.object();
    else if (c === '[') this.array();
    else if (c === '"') this.string();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) this.number();
    else if (this.s.startsWith('true', this.i)) this.i += 4;
    else if (this.s.startsWith('false', this.i)) this.i += 5;
    else if (this.s.startsWith('null', this.i)) this.i += 4;
    else this.fail();
  }

  private object(): void {
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail();
      this.string();
      this.ws();
      this.expect(':');
      this.value();
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else return this.expect('}');
    }
  }

  private array(): void {
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return;
    }
    for (;;) {
      this.value();
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else return this.expect(']');
    }
  }

  private string(): void {
    this.i++;
    for (;;) {
      if (this.i >= this.s.length) this.fail();
      const code = this.s.charCodeAt(this.i);
      if (code === 0x22) {
        this.i++;
        return;
      }
      if (code < 0x20) this.fail();
      if (code === 0x5c) {
        this.i++;
        const e = this.s[this.i];
        if (e === 'u') {
          this.i++;
          for (let k = 0; k < 4; k++) {
            if (!/[0-9a-fA-F]/.test(this.s[this.i] ?? '')) this.fail();
            this.i++;
          }
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) this.i++;
        else this.fail();
      } else {
        this.i++;
      }
    }
  }

  private digits(): void {
    const start = this.i;
    while (this.s[this.i] !== undefined && this.s[this.i]! >= '0' && this.s[this.i]! <= '9') this.i++;
    if (this.i === start) this.fail();
  }

  private number(): void {
    if (this.s[this.i] === '-') this.i++;
    if (this.s[this.i] === '0') this.i++;
    else this.digits();
    if (this.s[this.i] === '.') {
      this.i++;
      this.digits();
    }
    if (this.s[this.i] === 'e' || this.s[this.i] === 'E') {
      this.i++;
      if (this.s[this.i] === '+' || this.s[this.i] === '-') this.i++;
      this.digits();
    }
  }

  document(): void {
    this.value();
    this.ws();
    if (this.i < this.s.length) this.fail();
  }
}

/** Offset of the first character that makes `text` invalid JSON, or undefined if it is valid (or too deep to scan). */
export function jsonErrorOffset(text: string): number | undefined {
  const scanner = new Scanner(text);
  try {
    scanner.document();
    return undefined;
  } catch (offset) {
    return typeof offset === 'number' ? offset : undefined;
  }
}
