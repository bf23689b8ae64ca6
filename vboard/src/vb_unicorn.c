/*
 * vboard: a workaround for Unicorn 2.0.1 (Debian's libunicorn2), whose
 * guest stores to RAM are about 50 times slower than its loads.
 *
 * Unicorn 2.0.1 keeps no "dirty for code" state for RAM pages, so every
 * guest store takes QEMU's slow path (notdirty_write), which takes a
 * "page collection" for its check of translated code in the page: a
 * g_tree and a page entry allocated and freed per store. Unicorn takes no
 * page locks, and the collection is only handed to page_collection_unlock
 * (checked in the 2.0.1 binary: tb_invalidate_phys_page_fast,
 * tb_invalidate_phys_range and tb_invalidate_phys_page_range never read
 * it); later Unicorn releases dropped it the same way (upstream pull
 * request 1838, "Ignore page_collection_lock"). The check of translated
 * code itself still runs: code written by the firmware is translated
 * again.
 *
 * libunicorn calls these two functions through its PLT, so the
 * definitions below, exported from the executable (the vboard target adds
 * a --dynamic-list to every program that links it), take their place.
 * With another libunicorn that calls neither, they are never called.
 * A poll loop that stores (the h7flash driver's wait with its cycle-counter
 * timeout) runs 3 to 4 times faster with them.
 */
#include <stddef.h>
#include <stdint.h>

struct uc_struct;
struct page_collection;

struct page_collection *page_collection_lock_arm(struct uc_struct *uc, uint64_t start,
                                                 uint64_t end);
void page_collection_unlock_arm(struct page_collection *set);

struct page_collection *page_collection_lock_arm(struct uc_struct *uc, uint64_t start, uint64_t end)
{
    (void)uc;
    (void)start;
    (void)end;
    return NULL;
}

void page_collection_unlock_arm(struct page_collection *set)
{
    (void)set;
}

/* Referenced by vb_new so that the linker keeps this file. */
void vb_unicorn_workarounds(void) {}
