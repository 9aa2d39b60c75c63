// experiments/cli/flags.cpp — flag parsing, typed access and the --help text.
// Accepts `--name value` and `--name=value`; unknown flags are errors that list the known ones.
#include "experiments/cli/flags.h"

#include <cmath>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace bplab::cli {

Flags::Flags(std::string command, std::string summary) : command_(std::move(command)), summary_(std::move(summary)) {}

Flags& Flags::add(const std::string& name, const std::string& default_value, const std::string& help) {
    order_.push_back(name);
    specs_[name] = {default_value, help, false};
    values_[name] = default_value;
    return *this;
}

Flags& Flags::add_switch(const std::string& name, const std::string& help) {
    order_.push_back(name);
    specs_[name] = {"", help, true};
    values_[name] = "false";
    return *this;
}

const Flags::Spec& Flags::spec(const std::string& name) const {
    auto it = specs_.find(name);
    if (it == specs_.end()) throw std::logic_error(command_ + ": flag --" + name + " was never declared");
    return it->second;
}

std::string choices(const std::vector<std::string>& words) {
    std::string s;
    for (const auto& w : words) s += (s.empty() ? "" : " | ") + w;
    return s;
}

bool Flags::parse(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << help();
            return false;
        }
        if (arg.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument '" + arg + "' (see --help)");
        std::string name = arg.substr(2), value;
        const auto eq = name.find('=');
        const bool inline_value = eq != std::string::npos;
        if (inline_value) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        if (!specs_.count(name)) {
            std::string known;
            for (const auto& n : order_) known += " --" + n;
            throw std::invalid_argument("unknown flag --" + name + " (known:" + known + ")");
        }
        if (specs_[name].is_switch) {
            if (inline_value) throw std::invalid_argument("--" + name + " takes no value");
            value = "true";
        } else if (!inline_value) {
            // A value is never a flag: `--out --overwrite` forgot the folder, it does not name one "--overwrite".
            if (i + 1 >= argc || std::string(argv[i + 1]).rfind("--", 0) == 0)
                throw std::invalid_argument("--" + name + " needs a value" +
                                            (i + 1 < argc ? " (got the flag " + std::string(argv[i + 1]) + ")" : ""));
            value = argv[++i];
        }
        values_[name] = value;
        given_[name] = true;
    }
    return true;
}

std::string Flags::str(const std::string& name) const {
    spec(name);
    return values_.at(name);
}

std::string Flags::path(const std::string& name) const {
    std::string v = str(name);
    if (v.empty()) throw std::invalid_argument("--" + name + " is empty: expected a path");
    return v;
}

std::int64_t Flags::integer(const std::string& name) const {
    const std::string v = str(name);
    try {
        std::size_t used = 0;
        const long long x = std::stoll(v, &used);
        if (used == v.size()) return x;
    } catch (const std::exception&) {
    }
    throw std::invalid_argument("--" + name + " " + v + ": expected an integer");
}

namespace {

/// A decimal number: std::stod also reads hexadecimal ("0x10" is 16), which a typo should not become.
bool is_decimal(const std::string& v) { return v.find_first_of("xX") == std::string::npos; }

/// getline drops an empty last item, so "100," would read as "100".
void require_no_trailing_comma(const std::string& name, const std::string& text) {
    if (!text.empty() && text.back() == ',')
        throw std::invalid_argument("--" + name + " " + text + ": an empty item after the last comma");
}

}  // namespace

double Flags::real(const std::string& name) const {
    const std::string v = str(name);
    try {
        std::size_t used = 0;
        const double x = std::stod(v, &used);
        if (used == v.size() && std::isfinite(x) && is_decimal(v)) return x;
    } catch (const std::exception&) {
    }
    throw std::invalid_argument("--" + name + " " + v + ": expected a finite number (e.g. 0.1 or 1e-3)");
}

bool Flags::on(const std::string& name) const { return str(name) == "true"; }

std::vector<std::int64_t> Flags::integers(const std::string& name) const {
    require_no_trailing_comma(name, str(name));
    if (str(name).empty())
        throw std::invalid_argument("--" + name + " is empty: expected positive integers separated by commas (e.g. 100,100,100)");
    std::vector<std::int64_t> out;
    std::stringstream ss(str(name));
    std::string item;
    while (std::getline(ss, item, ',')) {
        try {
            std::size_t used = 0;
            const long long x = std::stoll(item, &used);
            if (used == item.size() && x > 0) {
                out.push_back(x);
                continue;
            }
        } catch (const std::exception&) {
        }
        throw std::invalid_argument("--" + name + " " + str(name) +
                                    ": expected positive integers separated by commas (e.g. 100,100,100)");
    }
    return out;
}

std::vector<double> Flags::reals(const std::string& name) const {
    std::vector<double> out;
    for (const std::string& item : words(name)) {
        try {
            std::size_t used = 0;
            const double x = std::stod(item, &used);
            if (used == item.size() && std::isfinite(x) && is_decimal(item)) {
                out.push_back(x);
                continue;
            }
        } catch (const std::exception&) {
        }
        throw std::invalid_argument("--" + name + " " + str(name) + ": expected finite numbers separated by commas");
    }
    return out;
}

std::vector<std::string> Flags::words(const std::string& name) const {
    std::vector<std::string> out;
    std::stringstream ss(str(name));
    std::string item;
    require_no_trailing_comma(name, str(name));
    while (std::getline(ss, item, ',')) {
        if (item.empty()) throw std::invalid_argument("--" + name + " " + str(name) + ": an empty item between commas");
        out.push_back(item);
    }
    if (out.empty()) throw std::invalid_argument("--" + name + " is empty");
    return out;
}

std::string Flags::help() const {
    std::ostringstream o;
    o << "usage: " << command_ << " [flags]\n\n" << summary_ << "\n\nflags:\n";
    for (const auto& name : order_) {
        const Spec& s = specs_.at(name);
        std::string left = "  --" + name + (s.is_switch ? "" : " <" + (s.default_value.empty() ? "value" : s.default_value) + ">");
        if (left.size() < 30) left.resize(30, ' ');
        else left += "\n" + std::string(30, ' ');
        o << left << s.help << '\n';
    }
    o << "  --help                      show this text\n";
    return o.str();
}

}  // namespace bplab::cli
