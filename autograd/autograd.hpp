// Everything a model needs from the tape: include this one header.
#pragma once

#include "backend/blas.hpp"
#include "autograd/gradcheck.hpp"
#include "autograd/ops/cell.hpp"
#include "autograd/ops/dropout.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/linalg.hpp"
#include "autograd/ops/loss.hpp"
#include "autograd/ops/norm.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/random.hpp"
#include "autograd/tape.hpp"
#include "backend/tensor.hpp"
