/* png_io.c: RGB8 PNG output, and grayscale input, through libpng (see ddpm/image.h).
 *
 * libpng encodes into memory and fileio.h writes the bytes atomically, so a
 * failed save (read-only folder, full disk) never leaves half a PNG behind. */
#include "ddpm/image.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "ddpm/fileio.h"

typedef struct {
    uint8_t *bytes;
    size_t len, cap;
    char message[256];   /* libpng's error text, if any */
} png_buffer;

static void on_write(png_structp png, png_bytep data, size_t n)
{
    png_buffer *b = png_get_io_ptr(png);
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < n) cap *= 2;
        uint8_t *grown = realloc(b->bytes, cap);
        if (!grown) png_error(png, "out of memory");
        b->bytes = grown, b->cap = cap;
    }
    memcpy(b->bytes + b->len, data, n);
    b->len += n;
}

static void on_flush(png_structp png) { (void)png; }

/* libpng's error callback must not return: record the message and unwind. */
static void on_error(png_structp png, png_const_charp msg)
{
    png_buffer *b = png_get_error_ptr(png);
    snprintf(b->message, sizeof b->message, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

/* Encodes img into b.  Kept apart from ddpm_png_write so that nothing this
 * function changes after setjmp is read after the longjmp. */
static bool encode(const ddpm_image *img, png_buffer *b)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, b, on_error, on_warning);
    if (!png) return false;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    png_set_write_fn(png, b, on_write, on_flush);
    png_set_IHDR(png, info, (png_uint_32)img->w, (png_uint_32)img->h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < img->h; y++) png_write_row(png, ddpm_image_pixel(img, 0, y));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return true;
}

int ddpm_png_write(const char *path, const ddpm_image *img, ddpm_error *err)
{
    DDPM_ASSERT(path && img && img->rgb && img->w > 0 && img->h > 0);
    png_buffer b = {.message = "out of memory"};
    int rc;
    if (!encode(img, &b))
        rc = ddpm_fail(err, "cannot encode PNG '%s': %s", path, b.message);
    else
        rc = ddpm_write_file_atomic(path, b.bytes, b.len, err);
    free(b.bytes);
    return rc;
}

int ddpm_png_read_gray(const char *path, int max_side, uint8_t **out, int *w, int *h, ddpm_error *err)
{
    *out = NULL;
    /* a FIFO or a device must not block: the regular-file check comes first */
    FILE *f = ddpm_open_regular(path, err);
    if (!f) return DDPM_ERR;
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_stdio(&im, f)) {
        fclose(f);
        return ddpm_fail(err, "%s is not a PNG libpng can read: %s", path, im.message);
    }
    if (im.width < 1 || im.height < 1 || im.width > (png_uint_32)max_side || im.height > (png_uint_32)max_side) {
        png_image_free(&im);
        fclose(f);
        return ddpm_fail(err, "%s is %ux%u; expected 1..%d pixels a side", path, (unsigned)im.width, (unsigned)im.height,
                         max_side);
    }
    im.format = PNG_FORMAT_GRAY; /* libpng converts colour and alpha (composited on black) */
    uint8_t *px = malloc(PNG_IMAGE_SIZE(im));
    if (!px) {
        png_image_free(&im);
        fclose(f);
        return ddpm_fail(err, "out of memory for %s", path);
    }
    if (!png_image_finish_read(&im, NULL, px, 0, NULL)) {
        free(px);
        fclose(f);
        return ddpm_fail(err, "%s: a damaged PNG: %s", path, im.message);
    }
    fclose(f);
    *w = (int)im.width, *h = (int)im.height;
    *out = px;
    return DDPM_OK;
}
