/**
 * --chunk: a passage longer than the model's max length becomes overlapping windows of at most
 * maxLength tokens ([CLS] + maxLength-2 word pieces + [SEP]) starting every `stride` word pieces; the
 * last window reaches the end of the passage. Without --chunk the engine truncates at maxLength as
 * the model card does.
 */

export interface WindowOptions {
  maxLength: number;
  /** Word pieces between window starts; default half a window. */
  stride?: number;
  clsId: number;
  sepId: number;
}

export function defaultStride(maxLength: number): number {
  return Math.max(1, Math.floor((maxLength - 2) / 2));
}

/** `ids` is the untruncated [CLS] ... [SEP] encoding of one passage. */
export function tokenWindows(ids: Int32Array, options: WindowOptions): Int32Array[] {
  const width = options.maxLength - 2;
  if (width < 1) throw new RangeError(`max length ${options.maxLength} leaves no room for tokens between [CLS] and [SEP]`);
  const stride = options.stride ?? defaultStride(options.maxLength);
  if (!Number.isInteger(stride) || stride < 1 || stride > width) {
    throw new RangeError(`stride must be an integer between 1 and ${width} (max length - 2), got ${stride}`);
  }
  const hasCls = ids.length > 0 && ids[0] === options.clsId;
  const hasSep = ids.length > (hasCls ? 1 : 0) && ids[ids.length - 1] === options.sepId;
  const body = ids.subarray(hasCls ? 1 : 0, hasSep ? ids.length - 1 : ids.length);
  const windows: Int32Array[] = [];
  for (let start = 0; ; start += stride) {
    const piece = body.subarray(start, start + width);
    const window = new Int32Array(piece.length + 2);
    window[0] = options.clsId;
    window.set(piece, 1);
    window[piece.length + 1] = options.sepId;
    windows.push(window);
    if (start + width >= body.length) break;
  }
  return windows;
}
