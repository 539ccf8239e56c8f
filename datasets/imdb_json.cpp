// Streaming reader of reviews.json: a SAX handler instead of a DOM, so the
// 66 MB file never becomes 50,000 json objects, and so an error can name the
// record it is in.
#include <fstream>
#include <nlohmann/json.hpp>

#include <tapegrad/datasets/imdb.hpp>

namespace tg::data {
namespace {

using json = nlohmann::json;

class ReviewSax {
 public:
  using Callback = std::function<void(std::size_t, std::string&, int)>;
  ReviewSax(std::string file, const Callback& f) : file_(std::move(file)), f_(f) {}

  bool null() { return scalar("null"); }
  bool boolean(bool) { return scalar("a boolean"); }
  bool number_integer(json::number_integer_t v) { return label(v, std::to_string(v)); }
  bool number_unsigned(json::number_unsigned_t v) {
    return label(v <= 1 ? json::number_integer_t(v) : 2, std::to_string(v));
  }
  bool number_float(json::number_float_t, const json::string_t& s) { return label(2, s); }
  bool string(json::string_t& s) {
    if (depth_ == 2 && key_ == Key::text) {
      text_ = std::move(s);
      has_text_ = true;
      return true;
    }
    return scalar("a string");
  }
  bool binary(json::binary_t&) { return scalar("binary"); }

  bool start_object(std::size_t) {
    if (depth_ == 0) fail_top("an object");
    if (depth_ == 1) {  // a new record
      has_text_ = has_label_ = false;
      key_ = Key::other;
    } else if (depth_ == 2) {
      value_kind("an object");
    }
    ++depth_;
    return true;
  }
  bool key(json::string_t& k) {
    if (depth_ == 2) key_ = k == "t" ? Key::text : k == "s" ? Key::label : Key::other;
    return true;
  }
  bool end_object() {
    if (--depth_ == 1) {
      if (!has_text_) fail(" has no \"t\" (review text)");
      if (!has_label_) fail(" has no \"s\" (label)");
      f_(index_, text_, label_);
      ++index_;
    }
    return true;
  }
  bool start_array(std::size_t) {
    if (depth_ == 1) fail(" is an array, expected an object {\"t\": text, \"s\": 0|1}");
    if (depth_ == 2) value_kind("an array");
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception& e) {
    const std::string where = depth_ >= 2 ? "in record " + std::to_string(index_)
                              : index_ ? "after record " + std::to_string(index_ - 1)
                                       : "before the first record";
    throw Error(file_ + ": malformed JSON at byte " + std::to_string(pos) + " (" + where + "): " + e.what());
  }
  std::size_t records() const { return index_; }

 private:
  enum class Key { text, label, other };

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(file_ + ": record " + std::to_string(index_) + what);
  }
  [[noreturn]] void fail_top(const char* kind) const {
    throw Error(file_ + ": top level is " + std::string(kind) + ", expected an array of reviews");
  }
  // A value of the wrong kind under "t" or "s"; other keys are ignored.
  void value_kind(const char* kind) const {
    if (key_ == Key::text) fail(": \"t\" is " + std::string(kind) + ", expected a string");
    if (key_ == Key::label) fail(": \"s\" is " + std::string(kind) + ", expected 0 or 1");
  }
  bool scalar(const char* kind) {
    if (depth_ == 0) fail_top(kind);
    if (depth_ == 1) fail(std::string(" is ") + kind + ", expected an object {\"t\": text, \"s\": 0|1}");
    if (depth_ == 2) value_kind(kind);
    return true;
  }
  bool label(json::number_integer_t v, const std::string& shown) {
    if (depth_ == 2 && key_ == Key::label) {
      if (v != 0 && v != 1) fail(": label \"s\" is " + shown + ", expected 0 or 1");
      label_ = int(v);
      has_label_ = true;
      return true;
    }
    return scalar("a number");
  }

  std::string file_;
  const Callback& f_;
  int depth_ = 0;  // 1 inside the top array, 2 inside a record
  std::size_t index_ = 0;
  Key key_ = Key::other;
  std::string text_;
  int label_ = 0;
  bool has_text_ = false, has_label_ = false;
};

}  // namespace

void for_each_review(const std::filesystem::path& file,
                     const std::function<void(std::size_t, std::string&, int)>& f) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file.string() + ": cannot open reviews file");
  // One read into memory: parsing from a string is several times faster
  // than nlohmann's istream adapter, and the buffer is freed on return.
  std::string bytes(std::filesystem::file_size(file), '\0');
  in.read(bytes.data(), std::streamsize(bytes.size()));
  if (std::size_t(in.gcount()) != bytes.size()) throw Error(file.string() + ": read error");
  ReviewSax sax(file.string(), f);
  json::sax_parse(bytes, &sax);
}

}  // namespace tg::data
