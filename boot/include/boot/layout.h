/*
 * Forwarding header: the layout is proto/h7_layout.h (docs/DESIGN.md,
 * "Layout"). Kept only until its last users, boot/target/usart.c and
 * app/app.c, include h7_layout.h; defines nothing.
 */
#include "h7_layout.h"
