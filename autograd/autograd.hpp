// Everything a model needs from the tape: include this one header.
#pragma once

#include <tapegrad/backend/blas.hpp>
#include <tapegrad/autograd/gradcheck.hpp>
#include <tapegrad/autograd/op.hpp>
#include <tapegrad/autograd/ops/cell.hpp>
#include <tapegrad/autograd/ops/dropout.hpp>
#include <tapegrad/autograd/ops/elementwise.hpp>
#include <tapegrad/autograd/ops/linalg.hpp>
#include <tapegrad/autograd/ops/loss.hpp>
#include <tapegrad/autograd/ops/norm.hpp>
#include <tapegrad/autograd/ops/reduce.hpp>
#include <tapegrad/autograd/ops/select.hpp>
#include <tapegrad/autograd/ops/shape.hpp>
#include <tapegrad/autograd/random.hpp>
#include <tapegrad/autograd/tape.hpp>
#include <tapegrad/backend/tensor.hpp>
