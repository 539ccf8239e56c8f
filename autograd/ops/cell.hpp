// Fused ops for the inner loop of recurrent layers. Each is one primitive op
// with a hand-written local backward (checked against the composed ops in the
// tests); backpropagation through time still comes from the tape.
#pragma once

#include <cstdint>

#include <tapegrad/autograd/tape.hpp>

namespace tg {

// y = c + a b, one BLAS call writing into a copy of c: the recurrent step's
// gates from the precomputed input part c and the state a.
//   a (m, k)  b (k, n)  c (m, n)        dc = dy   da = dy b^T   db = a^T dy
template <class T> Var<T> matmul_add(const Var<T>& c, const Var<T>& a, const Var<T>& b);

// y = seq[t] + a b: the same, reading the added term straight from time step
// t of a (T, m, n) sequence (no separate select).
//   dseq[t] += dy   da = dy b^T   db = a^T dy
template <class T>
Var<T> matmul_add(const Var<T>& seq, std::size_t t, const Var<T>& a, const Var<T>& b);

// y = packed[first .. first + m) + a b: the same from a row range of a packed
// (N, n) sequence, whose steps hold different numbers of rows.
//   dpacked[first .. first + m) += dy   da = dy b^T   db = a^T dy
template <class T>
Var<T> matmul_add_rows(const Var<T>& packed, std::size_t first, const Var<T>& a, const Var<T>& b);

// y = table[ids[0 .. m)] + a b: a step whose input rows are rows of a table
// (a vocabulary's projection), read in place: no gathered sequence is built.
// Rows whose id is no_grad_index (padding) pass no gradient to the table.
//   dtable[ids[i]] += dy[i]   da = dy b^T   db = a^T dy
template <class T>
Var<T> matmul_add_gather(const Var<T>& table, const std::int64_t* ids, const Var<T>& a, const Var<T>& b,
                         std::int64_t no_grad_index = -1);

// y = tanh(seq[t] + a b) and y = tanh(packed[first ..] + a b): the Elman
// step in one op (the tanh applied while the product is in cache).
//   dz = dy (1 - y^2), then as matmul_add with dz for dy
template <class T>
Var<T> tanh_matmul_add(const Var<T>& seq, std::size_t t, const Var<T>& a, const Var<T>& b);
template <class T>
Var<T> tanh_matmul_add_rows(const Var<T>& packed, std::size_t first, const Var<T>& a, const Var<T>& b);

// y = x W + b over the last axis of x, b added to every row in the same
// pass as the product: x (..., k)  W (k, n)  b (n)  y (..., n).
//   dx = dy W^T   dW = x^T dy   db = sum of dy's rows
template <class T> Var<T> affine(const Var<T>& x, const Var<T>& w, const Var<T>& b);

// One LSTM cell update from the gate pre-activations:
//   gates (B, 4H) = [i f z o],  c_prev (B, H)
//   c = sigmoid(f) * c_prev + sigmoid(i) * g(z)
//   h = sigmoid(o) * h_act(c)
// g and h_act are tanh (true) or the identity (false). Returns {h, c}; both
// are results of one record, whose backward runs when either gets a gradient.
template <class T>
std::pair<Var<T>, Var<T>> lstm_cell(const Var<T>& gates, const Var<T>& c_prev, bool g_tanh = true,
                                    bool h_tanh = true);

// One GRU update (PyTorch's formulation), reading the input part of the gates
// from step t of the projected sequence:
//   [xr xz xn] = seq[t] (B, 3H),   [hr hz hn] = hh = h W_hh + b_hh (B, 3H)
//   r = sigmoid(xr + hr)   z = sigmoid(xz + hz)   n = tanh(xn + r * hn)
//   h' = (1 - z) * n + z * h_prev
template <class T>
Var<T> gru_cell(const Var<T>& seq, std::size_t t, const Var<T>& hh, const Var<T>& h_prev);

}  // namespace tg
