// Integer ids (class targets, labels, table rows) of any integer type, as
// the int64 the ops read. An op takes `const IdList&`, and a std::vector<I>,
// an xt::xarray<I> or Tensor<I> (any container with data(), size() and, for
// a shape other than (n,), shape()), or a brace list converts to it: ids that
// are int64 already are borrowed, others are converted once.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapegrad/backend/tensor.hpp>

namespace tg {

namespace detail {
template <class C, class = void>
struct is_id_container : std::false_type {};
template <class C>
struct is_id_container<C, std::void_t<decltype(std::declval<const C&>().data()),
                                      decltype(std::declval<const C&>().size())>>
    : std::true_type {};
template <class C, class = void>
struct has_shape : std::false_type {};
template <class C>
struct has_shape<C, std::void_t<decltype(std::declval<const C&>().shape())>> : std::true_type {};
}  // namespace detail

class IdList {
 public:
  IdList(std::initializer_list<std::int64_t> ids)
      : owned_(ids), data_(owned_.data()), shape_{ids.size()} {}

  template <class C, class = std::enable_if_t<detail::is_id_container<C>::value>>
  IdList(const C& ids) {  // NOLINT: converts implicitly on purpose
    using I = std::remove_cv_t<std::remove_pointer_t<decltype(ids.data())>>;
    static_assert(std::is_integral_v<I> && !std::is_same_v<I, bool>,
                  "tapegrad: ids (targets, labels, rows) must be of an integer type");
    if constexpr (detail::has_shape<C>::value) shape_ = to_shape(ids.shape());
    else shape_ = Shape{ids.size()};
    const std::size_t n = ids.size();
    if constexpr (std::is_same_v<I, std::int64_t>) {
      data_ = ids.data();
    } else {
      owned_.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        const I v = ids.data()[i];
        if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t))
          if (v > static_cast<I>(std::numeric_limits<std::int64_t>::max()) && too_large_ == npos) {
            too_large_ = i;
            too_large_value_ = std::to_string(v);
          }
        owned_[i] = static_cast<std::int64_t>(v);
      }
      data_ = owned_.data();
    }
  }

  IdList(const IdList&) = delete;  // may point into its own storage
  IdList& operator=(const IdList&) = delete;

  // The ids; throws naming `op` if one did not fit in int64 (a size_t of 2^63 or more).
  const std::int64_t* data(const char* op) const {
    if (too_large_ != npos)
      throw Error(std::string(op) + ": index " + too_large_value_ + " at position " +
                  std::to_string(too_large_) + " is too large (it does not fit in int64)");
    return data_;
  }
  std::size_t size() const { return shape_size(shape_); }
  const Shape& shape() const { return shape_; }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::vector<std::int64_t> owned_;
  const std::int64_t* data_ = nullptr;
  Shape shape_;
  std::size_t too_large_ = npos;
  std::string too_large_value_;
};

}  // namespace tg
