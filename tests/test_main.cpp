// tests/test_main.cpp — the Catch2 entry point shared by every test executable.
// Kept in one object file so that the heavy Catch2 main is compiled once.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
