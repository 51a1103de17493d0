/* The string functions drivers and the compiler's own struct copies call. */
#include <linux/string.h>

void *memcpy(void *dst, const void *src, size_t n) {
  __builtin_memcpy(dst, src, n); /* memory.copy (bulk memory) */
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  __builtin_memmove(dst, src, n);
  return dst;
}

void *memset(void *s, int c, size_t n) {
  __builtin_memset(s, c, n); /* memory.fill */
  return s;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

size_t strnlen(const char *s, size_t max) {
  size_t n = 0;
  while (n < max && s[n]) n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return (unsigned char)*a - (unsigned char)*b;
}

size_t strscpy(char *dst, const char *src, size_t size) {
  size_t n = 0;
  if (size == 0) return 0;
  while (n + 1 < size && src[n]) { dst[n] = src[n]; n++; }
  dst[n] = 0;
  return n;
}
