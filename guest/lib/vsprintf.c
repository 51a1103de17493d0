/* vsnprintf for driver messages: %d %i %u %x %X %o %c %s %p %% with the
 * flags '-', '0', width, precision for strings, and the length modifiers
 * h, hh, l, ll, z. */
#include <linux/kernel.h>

struct out { char *buf; size_t size; size_t len; };

static void put(struct out *o, char c) {
  if (o->len + 1 < o->size) o->buf[o->len] = c;
  o->len++;
}

static void number(struct out *o, unsigned long long v, int neg, unsigned base, int upper, int width, int zero, int left) {
  char tmp[24];
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  int n = 0;
  do { tmp[n++] = digits[v % base]; v /= base; } while (v);
  int len = n + (neg ? 1 : 0);
  if (!left && !zero) for (; width > len; width--) put(o, ' ');
  if (neg) put(o, '-');
  if (!left && zero) for (; width > len; width--) put(o, '0');
  while (n) put(o, tmp[--n]);
  if (left) for (; width > len; width--) put(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, __builtin_va_list ap) {
  struct out o = { buf, size, 0 };
  for (; *fmt; fmt++) {
    if (*fmt != '%') { put(&o, *fmt); continue; }
    fmt++;
    int left = 0, zero = 0, width = 0, prec = -1, lng = 0;
    for (;; fmt++) {
      if (*fmt == '-') left = 1;
      else if (*fmt == '0') zero = 1;
      else break;
    }
    if (*fmt == '*') { width = __builtin_va_arg(ap, int); fmt++; }
    else while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    if (*fmt == '.') {
      fmt++;
      prec = 0;
      if (*fmt == '*') { prec = __builtin_va_arg(ap, int); fmt++; }
      else while (*fmt >= '0' && *fmt <= '9') prec = prec * 10 + (*fmt++ - '0');
    }
    while (*fmt == 'l' || *fmt == 'h' || *fmt == 'z') { if (*fmt == 'l') lng++; fmt++; }
    unsigned long long u;
    long long s;
    switch (*fmt) {
    case 'd': case 'i':
      s = lng >= 2 ? __builtin_va_arg(ap, long long) : lng == 1 ? __builtin_va_arg(ap, long) : __builtin_va_arg(ap, int);
      number(&o, s < 0 ? -(unsigned long long)s : (unsigned long long)s, s < 0, 10, 0, width, zero, left);
      break;
    case 'u': case 'x': case 'X': case 'o':
      u = lng >= 2 ? __builtin_va_arg(ap, unsigned long long) : lng == 1 ? __builtin_va_arg(ap, unsigned long) : __builtin_va_arg(ap, unsigned int);
      number(&o, u, 0, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16, *fmt == 'X', width, zero, left);
      break;
    case 'p':
      put(&o, '0'); put(&o, 'x');
      number(&o, (unsigned long)__builtin_va_arg(ap, void *), 0, 16, 0, 0, 0, 0);
      break;
    case 'c':
      put(&o, (char)__builtin_va_arg(ap, int));
      break;
    case 's': {
      const char *str = __builtin_va_arg(ap, const char *);
      if (!str) str = "(null)";
      int n = (int)strnlen(str, prec < 0 ? (size_t)-1 : (size_t)prec);
      if (!left) for (; width > n; width--) put(&o, ' ');
      for (int i = 0; i < n; i++) put(&o, str[i]);
      if (left) for (; width > n; width--) put(&o, ' ');
      break;
    }
    case '%':
      put(&o, '%');
      break;
    case 0:
      fmt--;
      break;
    default:
      put(&o, '%');
      put(&o, *fmt);
    }
  }
  if (size) buf[o.len < size ? o.len : size - 1] = 0;
  return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
  __builtin_va_list ap;
  __builtin_va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  __builtin_va_end(ap);
  return n;
}
