#ifndef BOOT_CM4_H
#define BOOT_CM4_H

#include <stdint.h>

/* Values of boot_ctx.cm4_state (shown by the status page). */
#define CM4_HELD     1u /* BCM4 = 0: held in reset until released */
#define CM4_BCM4_SET 2u /* BCM4 could not be cleared */

uint32_t cm4_hold(void);
void cm4_release(void);

#endif
