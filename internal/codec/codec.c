#include <string.h>
#include "codec.h"

// fail stores libvips' pending error text in err (it may be empty: some
// failures leave none) and clears the buffer.
static void fail(char **err) {
	*err = vips_error_buffer_copy();
}

// codec_verify decodes every pixel of an encoded image with the strict
// fail_on=error loader option and returns 0 if the image is intact, -1 if
// it is truncated or corrupt. pages=1 loads every frame (GIF, WebP). A
// JPEG is shrunk by 8 in the DCT domain, which still reads every
// entropy-coded byte.
int codec_verify(const void *buf, size_t len, int pages, char **err) {
	VipsImage *im = NULL;
	double avg;
	int ret;
	const char *loader = vips_foreign_find_load_buffer(buf, len);
	if (loader == NULL) {
		fail(err);
		return -1;
	}
	if (pages)
		im = vips_image_new_from_buffer(buf, len, "", "fail_on", VIPS_FAIL_ON_ERROR,
			"access", VIPS_ACCESS_SEQUENTIAL, "n", -1, NULL);
	else if (strcmp(loader, "VipsForeignLoadJpegBuffer") == 0)
		im = vips_image_new_from_buffer(buf, len, "", "fail_on", VIPS_FAIL_ON_ERROR,
			"access", VIPS_ACCESS_SEQUENTIAL, "shrink", 8, NULL);
	else
		im = vips_image_new_from_buffer(buf, len, "", "fail_on", VIPS_FAIL_ON_ERROR,
			"access", VIPS_ACCESS_SEQUENTIAL, NULL);
	if (im == NULL) {
		fail(err);
		return -1;
	}
	ret = vips_avg(im, &avg, NULL);
	g_object_unref(im);
	if (ret)
		fail(err);
	return ret ? -1 : 0;
}

static int blob_free(void *data, void *area) {
	g_free(data);
	return 0;
}

// codec_load opens a private copy of buf as a lazy, sequential pipeline:
// auto-rotated, shrunk on load to fit w×h when it is larger, every page
// when pages is set. The loader runs with fail_on=error, so a truncated or
// corrupt file makes whatever reads the pixels fail: the one decode that
// feeds the encoders is also the integrity check. The copy belongs to
// libvips and is freed with the last image that reads it.
VipsImage *codec_load(const void *buf, size_t len, int w, int h, int pages, char **err) {
	VipsBlob *blob = vips_blob_new(blob_free, g_memdup2(buf, len), len);
	VipsSource *src = vips_source_new_from_blob(blob);
	VipsImage *out = NULL;
	vips_area_unref(VIPS_AREA(blob));
	if (src == NULL) {
		fail(err);
		return NULL;
	}
	if (vips_thumbnail_source(src, &out, w, "height", h, "size", VIPS_SIZE_DOWN,
			"option_string", pages ? "fail_on=error,n=-1" : "fail_on=error", NULL)) {
		out = NULL;
		fail(err);
	}
	g_object_unref(src);
	return out;
}

// codec_materialize renders a lazy pipeline into a new memory image.
VipsImage *codec_materialize(VipsImage *in, char **err) {
	VipsImage *out = vips_image_copy_memory(in);
	if (out == NULL)
		fail(err);
	return out;
}

// codec_pixels renders in, or when in is NULL the image encoded in buf
// (decoded sequentially, every page when pages is set), as 8-bit sRGB with
// bands bands, resized to tw×th when that is smaller in either dimension
// (tw 0: never), into a new buffer the caller frees with g_free. The
// pipeline streams: a large image is never held decoded at full size.
// It fails when the image is not ew×eh before the resize (unless ew is 0).
void *codec_pixels(VipsImage *in, const void *buf, size_t len, int pages, int bands,
	int ew, int eh, int tw, int th, int *w, int *h, size_t *size, char **err) {
	VipsImage *ctx = vips_image_new();
	VipsImage **t = (VipsImage **) vips_object_local_array(VIPS_OBJECT(ctx), 5);
	VipsImage *x = in;
	void *mem = NULL;
	if (x == NULL) {
		if (pages)
			t[0] = vips_image_new_from_buffer(buf, len, "", "access", VIPS_ACCESS_SEQUENTIAL, "n", -1, NULL);
		else
			t[0] = vips_image_new_from_buffer(buf, len, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
		if (t[0] == NULL)
			goto done;
		x = t[0];
	}
	if (vips_image_guess_interpretation(x) != VIPS_INTERPRETATION_sRGB || x->BandFmt != VIPS_FORMAT_UCHAR) {
		if (vips_colourspace(x, &t[1], VIPS_INTERPRETATION_sRGB, NULL))
			goto done;
		x = t[1];
	}
	if (x->BandFmt != VIPS_FORMAT_UCHAR) {
		if (vips_cast_uchar(x, &t[2], NULL))
			goto done;
		x = t[2];
	}
	if (x->Bands > bands) {
		if (vips_extract_band(x, &t[3], 0, "n", bands, NULL))
			goto done;
		x = t[3];
	} else if (x->Bands == 3 && bands == 4) {
		if (vips_bandjoin_const1(x, &t[3], 255, NULL))
			goto done;
		x = t[3];
	}
	if (x->Bands != bands) {
		vips_error("codec", "%d bands, not %d", x->Bands, bands);
		goto done;
	}
	if (ew > 0 && (x->Xsize != ew || x->Ysize != eh)) {
		vips_error("codec", "%d × %d pixels, not %d × %d", x->Xsize, x->Ysize, ew, eh);
		goto done;
	}
	if (tw > 0 && (tw < x->Xsize || th < x->Ysize)) {
		if (vips_resize(x, &t[4], (double) tw / x->Xsize, "vscale", (double) th / x->Ysize, NULL))
			goto done;
		x = t[4];
	}
	*w = x->Xsize;
	*h = x->Ysize;
	mem = vips_image_write_to_memory(x, size);
done:
	g_object_unref(ctx);
	if (mem == NULL)
		fail(err);
	return mem;
}

// codec_alpha_min stores the smallest value of in's fourth band in out.
int codec_alpha_min(VipsImage *in, double *out, char **err) {
	VipsImage *a = NULL;
	int ret = vips_extract_band(in, &a, 3, NULL);
	if (ret == 0) {
		ret = vips_min(a, out, NULL);
		g_object_unref(a);
	}
	if (ret)
		fail(err);
	return ret;
}

// codec_save runs the libvips saver named saver (such as
// "jpegsave_buffer") on in with options in libvips' option-string syntax
// ("Q=80,interlace,subsample_mode=off") and returns the encoded bytes as a
// blob the caller releases with codec_blob_unref.
VipsBlob *codec_save(VipsImage *in, const char *saver, const char *options, char **err) {
	VipsBlob *blob = NULL;
	VipsOperation *op = vips_operation_new(saver);
	if (op == NULL) {
		fail(err);
		return NULL;
	}
	if (vips_object_set(VIPS_OBJECT(op), "in", in, NULL) ||
		vips_object_set_from_string(VIPS_OBJECT(op), options) ||
		vips_cache_operation_buildp(&op)) {
		vips_object_unref_outputs(VIPS_OBJECT(op));
		g_object_unref(op);
		fail(err);
		return NULL;
	}
	g_object_get(VIPS_OBJECT(op), "buffer", &blob, NULL);
	vips_object_unref_outputs(VIPS_OBJECT(op));
	g_object_unref(op);
	if (blob == NULL)
		*err = g_strdup("the saver returned no buffer");
	return blob;
}

const void *codec_blob_data(VipsBlob *blob, size_t *len) {
	return vips_blob_get(blob, len);
}

void codec_blob_unref(VipsBlob *blob) { vips_area_unref(VIPS_AREA(blob)); }

int codec_is_image(void *p) { return p != NULL && VIPS_IS_IMAGE(p); }

void codec_unref(VipsImage *im) { g_object_unref(im); }
