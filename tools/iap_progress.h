/*
 * h7iap: progress on stderr. On a terminal: one bar line per phase,
 * redrawn in place ("write  [#####.....]  52%  136 KB/262 KB  41 KB/s
 * ETA 3s"), ended with a newline. Not a terminal: a plain line when the
 * phase starts and one when it ends. -q prints nothing.
 */
#ifndef TOOLS_IAP_PROGRESS_H
#define TOOLS_IAP_PROGRESS_H

#include <stdint.h>

/* Force the mode (tests); by default isatty(2) decides. */
void iap_progress_set_tty(int tty);
void iap_progress_begin(const char *phase, uint64_t total, const char *what);
void iap_progress_update(uint64_t done);
void iap_progress_end(void);
/* A short note shown after the bar (what the device does meanwhile, e.g.
 * "bank 2: erasing sector 9"); "" or NULL clears it. Not a terminal: the
 * note is printed on its own line when it changes, with -v only. */
void iap_progress_note(const char *note);
/* Clear a bar being drawn so a message can be printed on its own line. */
void iap_progress_interrupt(void);

#endif
