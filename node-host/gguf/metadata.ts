import { GgufValueType } from './constants.js'

export type GgufScalar = number | bigint | boolean | string
export type GgufScalarType = Exclude<GgufValueType, typeof GgufValueType.ARRAY>

/** One typed metadata value, as it is stored in the file. */
export type GgufMetadataValue =
  | { type: GgufScalarType; value: GgufScalar }
  | { type: typeof GgufValueType.ARRAY; itemType: GgufScalarType; values: readonly GgufScalar[] }

export type GgufMetadataEntry = readonly [key: string, value: GgufMetadataValue]

const T = GgufValueType

/** Constructors for typed metadata values, so call sites read like the GGUF spec. */
export const kv = {
  u8: (value: number): GgufMetadataValue => ({ type: T.UINT8, value }),
  i8: (value: number): GgufMetadataValue => ({ type: T.INT8, value }),
  u16: (value: number): GgufMetadataValue => ({ type: T.UINT16, value }),
  i16: (value: number): GgufMetadataValue => ({ type: T.INT16, value }),
  u32: (value: number): GgufMetadataValue => ({ type: T.UINT32, value }),
  i32: (value: number): GgufMetadataValue => ({ type: T.INT32, value }),
  f32: (value: number): GgufMetadataValue => ({ type: T.FLOAT32, value }),
  f64: (value: number): GgufMetadataValue => ({ type: T.FLOAT64, value }),
  u64: (value: number | bigint): GgufMetadataValue => ({ type: T.UINT64, value }),
  i64: (value: number | bigint): GgufMetadataValue => ({ type: T.INT64, value }),
  bool: (value: boolean): GgufMetadataValue => ({ type: T.BOOL, value }),
  str: (value: string): GgufMetadataValue => ({ type: T.STRING, value }),
  strings: (values: readonly string[]): GgufMetadataValue => ({ type: T.ARRAY, itemType: T.STRING, values }),
  i32s: (values: readonly number[]): GgufMetadataValue => ({ type: T.ARRAY, itemType: T.INT32, values }),
  u32s: (values: readonly number[]): GgufMetadataValue => ({ type: T.ARRAY, itemType: T.UINT32, values }),
  f32s: (values: readonly number[]): GgufMetadataValue => ({ type: T.ARRAY, itemType: T.FLOAT32, values }),
  array: (itemType: GgufScalarType, values: readonly GgufScalar[]): GgufMetadataValue => ({
    type: T.ARRAY,
    itemType,
    values,
  }),
}
