// zlib (Debian: zlib1g-dev), for reading .gz dataset files.
#include <zlib.h>
