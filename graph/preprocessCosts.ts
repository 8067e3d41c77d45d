/**
 * What preprocessing a TU costs, predicted before it is done: learnt from the preprocessings timed in
 * one build, as a straight line through (bytes the TU read, milliseconds). A preprocessor's time is
 * its start (the driver, cc1plus, the shell around them) plus the text it reads; a compile's is that
 * and what the code makes it do. Small TUs over many headers preprocess about as long as they compile,
 * and preprocessing them for a cutoff that could save only as much is not worth its CPU.
 */

/** Preprocessings timed before predictions are made: until then every candidate is preprocessed. */
export const MIN_SAMPLES = 6;

export class PreprocessCosts {
  private n = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private sxy = 0;

  /** A preprocessing of a TU that read `bytes` (its source and headers) took `ms`. */
  add(bytes: number, ms: number): void {
    if (!(bytes >= 0) || !(ms >= 0)) return;
    const x = bytes / 1e6;
    this.n++;
    this.sx += x;
    this.sy += ms;
    this.sxx += x * x;
    this.sxy += x * ms;
  }

  get samples(): number {
    return this.n;
  }

  /** The predicted milliseconds for a TU that reads `bytes`; undefined before MIN_SAMPLES preprocessings. */
  predict(bytes: number): number | undefined {
    const { n, sx, sy, sxx, sxy } = this;
    if (n < MIN_SAMPLES) return undefined;
    const x = bytes / 1e6;
    const spread = n * sxx - sx * sx;
    // All samples read about as much: nothing says how the time grows with the bytes; their mean.
    if (spread <= 1e-12 * n * sxx) return sy / n;
    let slope = (n * sxy - sx * sy) / spread;
    let start = (sy - slope * sx) / n;
    if (slope < 0) {
      // Noise made bigger TUs cheaper: no growth with the bytes at all.
      slope = 0;
      start = sy / n;
    } else if (start < 0) {
      // No negative start: a line through the origin.
      start = 0;
      slope = sxy / sxx;
    }
    return start + slope * x;
  }
}
