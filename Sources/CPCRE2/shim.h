// PCRE2's 16-bit library: patterns and subjects are UTF-16 code units, as JavaScript's strings are.
#define PCRE2_CODE_UNIT_WIDTH 16
#include <pcre2.h>

// PCRE2_UNSET is a cast expression that Swift does not import.
static inline size_t flowrun_pcre2_unset(void) { return PCRE2_UNSET; }
