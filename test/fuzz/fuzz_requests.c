/*
 * fuzz_requests — the requests file `gprdsd rotate` and `gprdsd retry` leave for a pass
 * (codec/requests.c): what parses renders, and the render parses back to the same render (the
 * command rewrites the file from what it read).
 */
#include "fuzz.h"

#include "codec/requests.h"

static void
check_round_trip(const struct gp_buf *text)
{
	struct gp_requests q = {0};
	struct gp_diags diags = {0};
	struct gp_buf again = {0};
	int r;

	r = gp_requests_parse(text->p, text->len, "rendered.json", &q, &diags);
	fuzz_diags_flush(&diags);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(gp_requests_render(&q, "dev", &again) == 0);
	FUZZ_CHECK(fuzz_buf_eq(&again, text));
	gp_buf_release(&again);
	gp_requests_release(&q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_requests q = {0};
	struct gp_diags diags = {0};
	struct gp_buf text = {0};
	int r;

	r = gp_requests_parse((const char *)data, size, "dev.requests.json", &q, &diags);
	FUZZ_CHECK(r >= 0 || diags.errors > 0 || r == -ENOMEM);
	fuzz_diags_flush(&diags);
	if (r < 0)
		return 0;
	for (size_t i = 1; i < q.n_rotate; i++)
		FUZZ_CHECK(strcmp(q.rotate[i - 1].key, q.rotate[i].key) < 0);
	for (size_t i = 1; i < q.n_retry; i++)
		FUZZ_CHECK(strcmp(q.retry[i - 1].key, q.retry[i].key) < 0);
	FUZZ_CHECK(gp_requests_render(&q, "dev", &text) == 0);
	check_round_trip(&text);
	gp_buf_release(&text);
	gp_requests_release(&q);
	return 0;
}
