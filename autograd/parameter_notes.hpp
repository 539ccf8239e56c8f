// What a tape knows of the parameters it made: where each was made, the
// name a module registered it under, and how many optimizers update it. A
// parameter that receives a gradient but that no optimizer updates (a member
// a model forgot to register) would train silently as a constant: the
// optimizers and gradcheck ask here, and throw naming it.
//
// Nodes are noted weakly: a parameter nobody holds any more is forgotten.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <tapegrad/autograd/node.hpp>

namespace tg {

template <class T>
class ParameterNotes {
 public:
  void add(const NodePtr<T>& node, const char* file, int line) {
    if (notes_.size() >= 2 * live_after_prune_ + 64) prune();
    notes_.push_back({node, node.get(), file, line, {}, {}});
  }
  // The module's name for it ("weight") and the module's type.
  void label(const Node<T>* node, const std::string& name, const std::string& owner) {
    if (Note* n = find(node)) n->label = "'" + name + "' of a " + owner;
  }
  // An optimizer takes a parameter; it lets go when `holder` expires (the
  // optimizer's own token, so an optimizer that outlives the tape never
  // reaches back into it).
  void hold(const Node<T>* node, const std::shared_ptr<const void>& holder) {
    if (Note* n = find(node)) n->holders.push_back(holder);
  }

  // Marks every live parameter's gradient absent.
  void forget_grads() {
    for (Note& n : notes_)
      if (!n.weak.expired()) n.raw->forget_grad();
  }

  // Describes the first live parameter that requires grad, has a gradient
  // and is neither held by an optimizer (when `count_holders`) nor among
  // `known`; "" when there is none.
  std::string first_unknown_with_grad(const std::vector<const Node<T>*>& known, bool count_holders) const {
    for (const Note& n : notes_) {
      if (n.weak.expired() || !n.raw->requires_grad || !n.raw->has_grad) continue;
      if (count_holders && held(n)) continue;
      bool listed = false;
      for (const Node<T>* k : known) listed = listed || k == n.raw;
      if (!listed) return describe(n);
    }
    return "";
  }

 private:
  struct Note {
    WeakNodePtr<T> weak;
    Node<T>* raw;  // for lookups; valid while weak has not expired
    const char* file;
    int line;
    std::string label;
    std::vector<std::weak_ptr<const void>> holders;
  };
  static bool held(const Note& n) {
    for (const auto& h : n.holders)
      if (!h.expired()) return true;
    return false;
  }
  Note* find(const Node<T>* node) {
    for (Note& n : notes_)
      if (n.raw == node && !n.weak.expired()) return &n;
    return nullptr;
  }
  void prune() {
    std::vector<Note> live;
    for (Note& n : notes_)
      if (!n.weak.expired()) live.push_back(std::move(n));
    notes_ = std::move(live);
    live_after_prune_ = notes_.size();
  }
  static std::string describe(const Note& n) {
    std::string file = n.file ? n.file : "?";
    // The last two parts of the path are enough to find it: "layers/linear.cpp".
    const std::size_t last = file.rfind('/');
    if (last != std::string::npos && last > 0) {
      const std::size_t before = file.rfind('/', last - 1);
      if (before != std::string::npos) file = file.substr(before + 1);
    }
    return "a parameter of shape " + shape_str(n.raw->value.shape()) +
           (n.label.empty() ? "" : " (" + n.label + ")") + ", made by tape.parameter() at " + file + ":" +
           std::to_string(n.line);
  }

  std::vector<Note> notes_;
  std::size_t live_after_prune_ = 0;
};

}  // namespace tg
