// CHECK / DCHECK: for broken invariants only (never for user input: use Status).
#pragma once

#include <sstream>
#include <string>

namespace pagellm::internal {

// Collects the streamed message and aborts in its destructor.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* expr);
  [[noreturn]] ~CheckFailure();
  template <typename T>
  CheckFailure& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

// Lets `cond ? (void)0 : Voidify() & CheckFailure(...) << msg` type-check.
struct Voidify {
  void operator&(const CheckFailure&) {}
};

}  // namespace pagellm::internal

#define PAGELLM_CHECK(cond)                  \
  (cond) ? (void)0                           \
         : ::pagellm::internal::Voidify() &  \
               ::pagellm::internal::CheckFailure(__FILE__, __LINE__, #cond)

#define CHECK(cond) PAGELLM_CHECK(cond)
#define CHECK_EQ(a, b) PAGELLM_CHECK((a) == (b)) << (a) << " vs " << (b) << " "
#define CHECK_NE(a, b) PAGELLM_CHECK((a) != (b)) << (a) << " vs " << (b) << " "
#define CHECK_LT(a, b) PAGELLM_CHECK((a) < (b)) << (a) << " vs " << (b) << " "
#define CHECK_LE(a, b) PAGELLM_CHECK((a) <= (b)) << (a) << " vs " << (b) << " "
#define CHECK_GT(a, b) PAGELLM_CHECK((a) > (b)) << (a) << " vs " << (b) << " "
#define CHECK_GE(a, b) PAGELLM_CHECK((a) >= (b)) << (a) << " vs " << (b) << " "
#define CHECK_OK(expr)                                   \
  do {                                                   \
    auto _pagellm_ck = (expr);                           \
    PAGELLM_CHECK(_pagellm_ck.ok()) << _pagellm_ck.ToString(); \
  } while (0)

#ifdef NDEBUG
#define DCHECK(cond) while (false) PAGELLM_CHECK(cond)
#else
#define DCHECK(cond) PAGELLM_CHECK(cond)
#endif
