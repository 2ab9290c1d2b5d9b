/*
 * fuzz_state — the per-environment state file (model/state.c): what parses renders, the
 * render parses back to the same render (the daemon rewrites the file from what it read), and
 * a deep copy has the same digest and render as its original.
 */
#include "fuzz.h"

#include "model/state.h"

/* Renders s into *out; a parsed state file always has an env, so rendering cannot refuse. */
static void
render(const struct gp_state_file *s, struct gp_buf *out)
{
	FUZZ_CHECK(gp_state_render(s, out) == 0);
}

static void
check_copy(const struct gp_state_file *s, const struct gp_buf *text)
{
	_cleanup_(gp_state_file_freep) struct gp_state_file *d = gp_state_file_dup(s);
	struct gp_buf again = {0};

	if (!d)
		return;
	FUZZ_CHECK(gp_state_digest(d) == gp_state_digest(s));
	render(d, &again);
	FUZZ_CHECK(fuzz_buf_eq(&again, text));
	gp_buf_release(&again);
}

static void
check_round_trip(const struct gp_buf *text)
{
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = NULL;
	struct gp_diags diags = {0};
	struct gp_buf again = {0};
	int r;

	r = gp_state_parse(text->p, text->len, "rendered.json", &s, &diags);
	fuzz_diags_flush(&diags);
	FUZZ_CHECK(r == 0);
	render(s, &again);
	FUZZ_CHECK(fuzz_buf_eq(&again, text));
	gp_buf_release(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = NULL;
	struct gp_diags diags = {0};
	struct gp_buf text = {0};
	int r;

	r = gp_state_parse((const char *)data, size, "dev.json", &s, &diags);
	fuzz_parsed(r, s, &diags);
	if (r < 0)
		return 0;
	render(s, &text);
	check_round_trip(&text);
	check_copy(s, &text);
	gp_buf_release(&text);
	return 0;
}
