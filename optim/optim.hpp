// Everything a training loop needs from optim/: include this one header.
#pragma once

#include "optim/adagrad.hpp"
#include "optim/adam.hpp"
#include "optim/optimizer.hpp"
#include "optim/rmsprop.hpp"
#include "optim/schedule.hpp"
#include "optim/sgd.hpp"
