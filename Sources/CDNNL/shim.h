// oneDNN (Debian libdnnl-dev, installed by `make deps`): the convolutions of inference (Docs/Architecture.md §2.3).
#include <oneapi/dnnl/dnnl.h>
