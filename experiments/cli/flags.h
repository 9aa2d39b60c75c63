// experiments/cli/flags.h — a small command-line flag parser with generated --help.
// Every flag has a default and a help line; bad values name the flag, the text and what was expected.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bplab::cli {

/// "a | b | c": the choices of a flag, for its help line and its errors.
std::string choices(const std::vector<std::string>& words);

class Flags {
public:
    /// `command` is what the user types before the flags ("bplab train"), for the usage line and errors.
    Flags(std::string command, std::string summary);
    /// Declares a flag (name without dashes) with its default text and help.
    Flags& add(const std::string& name, const std::string& default_value, const std::string& help);
    /// Declares a switch (present = true).
    Flags& add_switch(const std::string& name, const std::string& help);

    /// Parses argv[first..]; returns false if --help was asked (the help is printed).
    bool parse(int argc, char** argv, int first);

    std::string str(const std::string& name) const;
    /// str, refused when empty (a file or folder to write): "--out is empty: expected a path".
    std::string path(const std::string& name) const;
    std::int64_t integer(const std::string& name) const;
    double real(const std::string& name) const;
    bool on(const std::string& name) const;
    /// Comma-separated positive integers ("256" or "100,100,100"); empty text is an error.
    std::vector<std::int64_t> integers(const std::string& name) const;
    /// Comma-separated numbers ("0.1,0.05").
    std::vector<double> reals(const std::string& name) const;
    /// Comma-separated words ("backprop,backforward").
    std::vector<std::string> words(const std::string& name) const;
    /// True if the user gave the flag explicitly.
    bool given(const std::string& name) const { return given_.count(name) != 0; }

    std::string help() const;

private:
    struct Spec {
        std::string default_value, help;
        bool is_switch;
    };
    const Spec& spec(const std::string& name) const;
    std::string command_, summary_;
    std::vector<std::string> order_;
    std::map<std::string, Spec> specs_;
    std::map<std::string, std::string> values_;
    std::map<std::string, bool> given_;
};

}  // namespace bplab::cli
