/*
 * idx.h - writes a tiny synthetic IDX dataset (MNIST's file format), as
 * Protocol/check_replies.py does: `side`x`side` images whose bright vertical
 * band depends on the class, so a small model learns them in a few epochs.
 * Header-only, for the tests and for mkidx.
 */
#ifndef LETHE_TESTS_IDX_H
#define LETHE_TESTS_IDX_H

#include <stdio.h>
#include <stdlib.h>

static unsigned long idx_rng_state = 88172645463325252UL;

static unsigned idx_rand(void)
{
    /* xorshift: enough for test data, and the same bytes on every run */
    idx_rng_state ^= idx_rng_state << 13;
    idx_rng_state ^= idx_rng_state >> 7;
    idx_rng_state ^= idx_rng_state << 17;
    return (unsigned)(idx_rng_state >> 11);
}

static int idx_write(const char *path, const unsigned *dims, int ndims, const unsigned char *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    unsigned char header[4 + 4 * 4] = { 0, 0, 0x08, 0 };
    int i, ok;
    if (f == NULL)
        return -1;
    header[3] = (unsigned char)ndims;
    for (i = 0; i < ndims; i++) {
        header[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        header[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        header[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        header[7 + 4 * i] = (unsigned char)dims[i];
    }
    ok = fwrite(header, 1, 4 + 4 * (size_t)ndims, f) == 4 + 4 * (size_t)ndims &&
         fwrite(data, 1, size, f) == size;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static int idx_make_part(const char *dir, const char *images, const char *labels, unsigned n, unsigned side,
                         unsigned classes)
{
    char path[4096];
    unsigned char *pixels = malloc((size_t)n * side * side), *ys = malloc(n);
    unsigned dims[3], i, row, col, band = side / classes > 0 ? side / classes : 1;
    int rc = -1;
    if (pixels == NULL || ys == NULL)
        goto out;
    for (i = 0; i < n; i++)
        ys[i] = (unsigned char)(i % classes);
    for (i = n; i > 1; i--) { /* shuffle the labels */
        unsigned j = idx_rand() % i;
        unsigned char t = ys[i - 1];
        ys[i - 1] = ys[j];
        ys[j] = t;
    }
    for (i = 0; i < n; i++)
        for (row = 0; row < side; row++)
            for (col = 0; col < side; col++) {
                int bright = ys[i] * band <= col && col < (ys[i] + 1u) * band;
                pixels[((size_t)i * side + row) * side + col] =
                    (unsigned char)(bright ? 170 + idx_rand() % 86 : idx_rand() % 71);
            }
    dims[0] = n;
    dims[1] = dims[2] = side;
    snprintf(path, sizeof path, "%s/%s", dir, images);
    if (idx_write(path, dims, 3, pixels, (size_t)n * side * side) != 0)
        goto out;
    snprintf(path, sizeof path, "%s/%s", dir, labels);
    if (idx_write(path, dims, 1, ys, n) != 0)
        goto out;
    rc = 0;
out:
    free(pixels);
    free(ys);
    return rc;
}

/* Writes train-/t10k- images and labels into the existing directory `dir`; 0 on success. */
static int idx_write_dataset(const char *dir, unsigned train, unsigned test, unsigned side, unsigned classes)
{
    if (classes < 2 || classes > 255 || side < 1)
        return -1;
    if (idx_make_part(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", train, side, classes) != 0)
        return -1;
    return idx_make_part(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", test, side, classes);
}

#endif
