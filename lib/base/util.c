/*
 * util.c — buffers, string vectors, durations and timestamps.
 *
 * Deliberately no I/O and no clock: time values are passed in by the caller.
 */
#include "base/util.h"

#include <stdio.h>

char *
gp_strprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

char *
gp_strdup0(const char *s)
{
	return s ? strdup(s) : NULL;
}

uint64_t
gp_fnv64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
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
	/* A fresh buffer must read as "" too: gp_buf_steal() may hand it out unwritten. */
	p[b->len] = '\0';
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
	if (n < 0) {
		b->oom = true; /* the content is incomplete, as after a failed allocation */
		return -EINVAL;
	}
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

static int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
gp_strv_sort(struct gp_strv *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(*sv->v), cmp_strp);
}

bool
gp_strv_has(const struct gp_strv *sorted, const char *s)
{
	return s && sorted->n && bsearch(&s, sorted->v, sorted->n, sizeof(*sorted->v), cmp_strp);
}

void
gp_strv_uniq(struct gp_strv *sv)
{
	size_t k = 0;

	gp_strv_sort(sv);
	for (size_t i = 0; i < sv->n; i++) {
		if (k && strcmp(sv->v[k - 1], sv->v[i]) == 0)
			free(sv->v[i]);
		else
			sv->v[k++] = sv->v[i];
	}
	sv->n = k;
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
		uint64_t d = (uint64_t)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
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
gp_span_format(int64_t secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(buf, len, "%llds", (long long)secs);
	else if (secs < 120 * 60)
		snprintf(buf, len, "%lldm", (long long)(secs / 60));
	else if (secs < 48 * 3600)
		snprintf(buf, len, "%lldh", (long long)(secs / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(secs / 86400));
}

/*
 * Calendar arithmetic on the proleptic Gregorian calendar (H. Hinnant's days_from_civil and
 * civil_from_days), so that neither direction depends on time_t, the C library's time zone
 * state or strptime()'s leniency (it accepts " 7", single digits and February 30).
 */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The range the 4-digit year of the format can show: 0000-01-01 to 9999-12-31T23:59:59. */
#define GP_TIME_MIN (-62167219200LL)
#define GP_TIME_MAX (253402300799LL)

void
gp_time_format(int64_t t, char buf[static 21])
{
	int64_t days, secs, y;
	unsigned m, d;

	/*
	 * Clamp rather than fall back to the epoch: a "never" far in the future must still sort
	 * after every real date when it is read back, not become 1970.
	 */
	if (t < GP_TIME_MIN)
		t = GP_TIME_MIN;
	if (t > GP_TIME_MAX)
		t = GP_TIME_MAX;
	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	/* The moduli change nothing after the clamp; they let the compiler see the widths. */
	snprintf(buf, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)y % 10000, m % 100, d % 100,
		 (unsigned)(secs / 3600) % 100, (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
}

/* Exactly n decimal digits at *p; advances *p. */
static bool
parse_digits(const char **p, unsigned n, unsigned *ret)
{
	unsigned v = 0;

	for (unsigned i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static bool
parse_sep(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static unsigned
days_in_month(unsigned y, unsigned m)
{
	static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : mdays[m - 1];
}

int
gp_time_parse(const char *s, int64_t *ret)
{
	unsigned y, mo, d, h, mi, sec;
	const char *p = s;

	if (!s)
		return -EINVAL;
	if (!parse_digits(&p, 4, &y) || !parse_sep(&p, '-') || !parse_digits(&p, 2, &mo) ||
	    !parse_sep(&p, '-') || !parse_digits(&p, 2, &d) || !parse_sep(&p, 'T') ||
	    !parse_digits(&p, 2, &h) || !parse_sep(&p, ':') || !parse_digits(&p, 2, &mi) ||
	    !parse_sep(&p, ':') || !parse_digits(&p, 2, &sec))
		return -EINVAL;
	/* 60 is a leap second; like timegm() it counts as the first second of the next minute. */
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	/* An optional fraction: AWS dates come as 2026-01-15T10:00:00.123Z. It is dropped. */
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z')
		p++;
	else if (strncmp(p, "+00:00", 6) == 0)
		p += 6;
	else
		return -EINVAL; /* no zone, or another one: refuse rather than guess */
	if (*p)
		return -EINVAL;
	*ret = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

int
gp_time_parse_rfc3339(const char *s, int64_t *ret)
{
	size_t n = s ? strlen(s) : 0;
	const char *z = n > 6 ? s + n - 6 : NULL;
	_cleanup_free_ char *utc = NULL;
	unsigned h, m;
	const char *p;
	int64_t t;

	if (!z || (z[0] != '+' && z[0] != '-') || z[3] != ':')
		return gp_time_parse(s, ret);
	p = z + 1;
	if (!parse_digits(&p, 2, &h) || !parse_sep(&p, ':') || !parse_digits(&p, 2, &m) ||
	    h > 23 || m > 59)
		return -EINVAL;
	utc = gp_strprintf("%.*sZ", (int)(n - 6), s);
	if (!utc)
		return -ENOMEM;
	if (gp_time_parse(utc, &t) < 0)
		return -EINVAL;
	*ret = t + (z[0] == '+' ? -1 : 1) * (int64_t)(h * 3600 + m * 60);
	return 0;
}

int
gp_window_parse(const char *s, unsigned *ret_start, unsigned *ret_end)
{
	unsigned h1, m1, h2, m2;
	const char *p = s;

	if (!s || !parse_digits(&p, 2, &h1) || !parse_sep(&p, ':') || !parse_digits(&p, 2, &m1) ||
	    !parse_sep(&p, '-') || !parse_digits(&p, 2, &h2) || !parse_sep(&p, ':') ||
	    !parse_digits(&p, 2, &m2) || *p)
		return -EINVAL;
	if (h1 > 23 || h2 > 24 || m1 > 59 || m2 > 59 || (h2 == 24 && m2) ||
	    h1 * 60 + m1 == h2 * 60 + m2)
		return -EINVAL;
	*ret_start = h1 * 60 + m1;
	*ret_end = h2 * 60 + m2;
	return 0;
}

bool
gp_window_contains(unsigned start, unsigned end, int64_t t)
{
	int64_t day = ((t % 86400) + 86400) % 86400;
	unsigned m = (unsigned)(day / 60);

	return start < end ? m >= start && m < end : m >= start || m < end;
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

static const atomic_bool *cancel_flag;

void
gp_cancel_watch(const atomic_bool *flag)
{
	cancel_flag = flag;
}

bool
gp_cancelled(void)
{
	return cancel_flag && atomic_load(cancel_flag);
}

size_t
gp_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = row[j];
			row[j] = best;
		}
	}
	return row[lb];
}

const char *
gp_did_you_mean(const char *key, const char *const *cands, size_t n)
{
	size_t best = strlen(key) < 3 ? strlen(key) : 3;
	const char *found = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t d = gp_edit_distance(key, cands[i]);

		if (d < best) {
			best = d;
			found = cands[i];
		}
	}
	return found;
}
