/*
 * mkidx - writes a tiny synthetic IDX dataset for the example and the tests.
 *
 *     mkidx DIR [TRAIN [TEST [SIDE [CLASSES]]]]     (defaults: 200 100 8 3)
 *
 * DIR must exist. Load it with dataset/load {"name": ..., "path": DIR, "classes": CLASSES}.
 */
#include <stdio.h>
#include <stdlib.h>

#include "idx.h"

int main(int argc, char **argv)
{
    unsigned train = 200, test = 100, side = 8, classes = 3;
    if (argc < 2 || argc > 6) {
        fprintf(stderr, "usage: mkidx DIR [TRAIN [TEST [SIDE [CLASSES]]]]\n");
        return 2;
    }
    if (argc > 2) train = (unsigned)strtoul(argv[2], NULL, 10);
    if (argc > 3) test = (unsigned)strtoul(argv[3], NULL, 10);
    if (argc > 4) side = (unsigned)strtoul(argv[4], NULL, 10);
    if (argc > 5) classes = (unsigned)strtoul(argv[5], NULL, 10);
    if (idx_write_dataset(argv[1], train, test, side, classes) != 0) {
        fprintf(stderr, "mkidx: cannot write the dataset into %s\n", argv[1]);
        return 1;
    }
    return 0;
}
