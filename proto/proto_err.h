/*
 * Error codes of the formats in proto/: one enum per format, each in its
 * own range, so that a code says which layer it comes from wherever it
 * ends up (docs/DESIGN.md "Error codes" has the table of every layer):
 *
 *   enum ur_err      -3001..-3099  update record   (update_record.h)
 *   enum ym_err      -3101..-3199  YMODEM framing  (ymodem.h)
 *   enum an3155_err  -3201..-3299  AN3155 frames   (an3155.h)
 *   enum fp_err      -3301..-3399  fast protocol   (fastp.h)
 *   enum infl_err    -3401..-3499  DEFLATE decoder (inflate.h)
 *
 * Functions that return a length return it as a positive int; 0 is
 * success; every failure is negative.
 */
#ifndef PROTO_ERR_H
#define PROTO_ERR_H

#define PROTO_ERR_UR_BASE     (-3000)
#define PROTO_ERR_YM_BASE     (-3100)
#define PROTO_ERR_AN3155_BASE (-3200)
#define PROTO_ERR_FP_BASE     (-3300)
#define PROTO_ERR_INFL_BASE   (-3400)
#define PROTO_ERR_END         (-3500) /* first value past the proto ranges */

/* Name of a code of one of the enums above; NULL for any other
 * value (0 included), so that a caller can chain to the next layer. */
const char *proto_strerror(int err);

#endif /* PROTO_ERR_H */
