#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H
// The system zlib (Debian's zlib1g-dev): compress2 and uncompress for HdrHistogram's compressed
// V2 encoding (cookie 0x1c849304), the form every HdrHistogram implementation reads.
#include <zlib.h>
#endif
