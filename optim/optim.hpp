// Everything a training loop needs from optim/: include this one header.
#pragma once

#include <tapegrad/optim/adagrad.hpp>
#include <tapegrad/optim/adam.hpp>
#include <tapegrad/optim/optimizer.hpp>
#include <tapegrad/optim/rmsprop.hpp>
#include <tapegrad/optim/schedule.hpp>
#include <tapegrad/optim/sgd.hpp>
