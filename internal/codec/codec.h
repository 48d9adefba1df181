// The C half of package codec: every libvips call the Go half makes that
// govips does not offer. Each function that can fail takes err and, on
// failure, stores there libvips' own error text (vips_error_buffer_copy:
// copied and cleared in one step), which the caller frees with g_free.
#ifndef IMGDIET_CODEC_H
#define IMGDIET_CODEC_H

#include <stdlib.h>
#include <vips/vips.h>

int codec_verify(const void *buf, size_t len, int pages, char **err);
VipsImage *codec_load(const void *buf, size_t len, int w, int h, int pages, char **err);
VipsImage *codec_materialize(VipsImage *in, char **err);
void *codec_pixels(VipsImage *in, const void *buf, size_t len, int pages, int bands,
	int ew, int eh, int tw, int th, int *w, int *h, size_t *size, char **err);
int codec_alpha_min(VipsImage *in, double *out, char **err);
VipsBlob *codec_save(VipsImage *in, const char *saver, const char *options, char **err);
const void *codec_blob_data(VipsBlob *blob, size_t *len);
void codec_blob_unref(VipsBlob *blob);
int codec_is_image(void *p);
void codec_unref(VipsImage *im);

#endif
