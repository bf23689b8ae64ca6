/* proto_strerror(): hands a code to the format whose range holds it. */
#include "proto_err.h"

#include <stddef.h>

#include "an3155.h"
#include "fastp.h"
#include "inflate.h"
#include "update_record.h"
#include "ymodem.h"

const char *proto_strerror(int err)
{
    if (err < PROTO_ERR_UR_BASE && err > PROTO_ERR_YM_BASE)
        return ur_strerror(err);
    if (err < PROTO_ERR_YM_BASE && err > PROTO_ERR_AN3155_BASE)
        return ym_strerror(err);
    if (err < PROTO_ERR_AN3155_BASE && err > PROTO_ERR_FP_BASE)
        return an3155_strerror(err);
    if (err < PROTO_ERR_FP_BASE && err > PROTO_ERR_INFL_BASE)
        return fp_strerror(err);
    if (err < PROTO_ERR_INFL_BASE && err > PROTO_ERR_END)
        return infl_strerror(err);
    return NULL;
}
