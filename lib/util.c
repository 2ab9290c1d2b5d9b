/*
 * util.c — buffers, string vectors, durations and timestamps.
 *
 * Deliberately no I/O and no clock: time values are passed in by the caller.
 */
#include "util.h"

#include <stdio.h>
#include <time.h>

char *
gp_strdup0(const char *s)
{
	return s ? strdup(s) : NULL;
}

int
gp_buf_reserve(struct gp_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->oom)
		return -ENOMEM;
	if (extra > SIZE_MAX - b->len - 1)
		goto oom;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->p, cap);
	if (!p)
		goto oom;
	b->p = p;
	b->cap = cap;
	return 0;
oom:
	b->oom = true;
	return -ENOMEM;
}

int
gp_buf_append(struct gp_buf *b, const void *data, size_t len)
{
	int r = gp_buf_reserve(b, len);

	if (r < 0)
		return r;
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

int
gp_buf_puts(struct gp_buf *b, const char *s)
{
	return gp_buf_append(b, s, strlen(s));
}

int
gp_buf_putc(struct gp_buf *b, char c)
{
	return gp_buf_append(b, &c, 1);
}

int
gp_buf_vprintf(struct gp_buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n, r;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return -EINVAL;
	r = gp_buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
gp_buf_printf(struct gp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = gp_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

char *
gp_buf_steal(struct gp_buf *b)
{
	char *p;

	if (b->oom) {
		gp_buf_release(b);
		return NULL;
	}
	if (!b->p && gp_buf_reserve(b, 0) < 0)
		return NULL;
	p = b->p;
	*b = (struct gp_buf){0};
	return p;
}

void
gp_buf_release(struct gp_buf *b)
{
	free(b->p);
	*b = (struct gp_buf){0};
}

void
gp_buf_release_secure(struct gp_buf *b)
{
	if (b->p)
		explicit_bzero(b->p, b->cap);
	gp_buf_release(b);
}

int
gp_strv_push(struct gp_strv *sv, const char *s)
{
	char *d;

	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 8;
		char **v = realloc(sv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		sv->v = v;
		sv->cap = cap;
	}
	d = strdup(s);
	if (!d)
		return -ENOMEM;
	sv->v[sv->n++] = d;
	return 0;
}

bool
gp_strv_contains(const struct gp_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void
gp_strv_release(struct gp_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	*sv = (struct gp_strv){0};
}

int
gp_duration_parse(const char *s, uint64_t *ret_ms)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
		{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
	};
	uint64_t v = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -EINVAL;
	if (!*p) {
		if (v != 0)
			return -EINVAL; /* a bare number other than 0 has no unit */
		*ret_ms = 0;
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		if (strcmp(p, units[i].suffix) == 0) {
			if (v > UINT64_MAX / units[i].ms)
				return -ERANGE;
			*ret_ms = v * units[i].ms;
			return 0;
		}
	}
	return -EINVAL;
}

void
gp_duration_format(uint64_t ms, char *buf, size_t len)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
		{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000},
	};

	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		if (ms && ms % units[i].ms == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(ms / units[i].ms),
				 units[i].suffix);
			return;
		}
	}
	snprintf(buf, len, "%llums", (unsigned long long)ms);
}

void
gp_time_format(int64_t t, char buf[static 21])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm)) {
		strcpy(buf, "1970-01-01T00:00:00Z");
		return;
	}
	strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
gp_time_parse(const char *s, int64_t *ret)
{
	struct tm tm = {0};
	const char *end;

	if (!s)
		return -EINVAL;
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -EINVAL;
	/* Accept "Z" and an optional fraction: AWS dates come as 2026-01-15T10:00:00.123Z. */
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (*end == 'Z')
		end++;
	else if (strcmp(end, "+00:00") == 0)
		end += 6;
	if (*end)
		return -EINVAL;
	*ret = (int64_t)timegm(&tm);
	return 0;
}

bool
gp_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;

	while (p < e) {
		unsigned char c = *p;
		size_t n;
		uint32_t cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(e - p) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}
