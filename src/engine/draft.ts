/** A JSON Schema dialect version. */
export type Draft = 4 | 6 | 7 | 2019 | 2020;
