// The slot-filling data's generator: datasets/rng.hpp's SplitMix64, under the
// name the slot code has always used.
#pragma once

#include <tapegrad/datasets/rng.hpp>

namespace tg::slots {

using Rng = data::SplitMix64;

}  // namespace tg::slots
