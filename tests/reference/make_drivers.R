# Reference numbers for the key-driver models of survey_pipeline.analysis.drivers, computed with R's
# survey package on the analysis' own design of one demo wave.
#
#   python tests/reference/export_drivers_frame.py DEMO_DIR   # once: drivers_frame.csv, drivers_margins.csv
#   cd tests/reference && Rscript make_drivers.R
#
# drivers_frame.csv: the last wave of the demo (Riverton, 2026-spring) as the analysis holds it:
# base weight w0, the raking cell of each margin (m_*, after collapsing), district, and the 0/1
# codes of the outcomes and drivers (NA: missing, don't know or refused). The design is the
# analysis': every row its own PSU (one stratum: the wave), base weights raked to the margins of
# drivers_margins.csv by calibrate(calfun = "raking") (whose linearization is exact, as the
# analysis'), then capped at 6 x the mean weight with the excess spread over the other rows in
# proportion to their weights, repeated until none is over (the analysis' trimming; R's
# trimWeights spreads it equally, so it is written out here; the calibration is kept for the
# variance, as trimWeights does). Then svyglm (gaussian: a linear probability model) of each
# outcome on the four police service items, citywide and in each district (subset of the
# calibrated design: zero weights outside, the design kept). Writes r_drivers.csv (long: case,
# term, quantity, value; 17 significant digits) and r_session_drivers.txt.
suppressMessages(library(survey))
options(survey.lonely.psu = "fail")

fr <- read.csv("drivers_frame.csv", stringsAsFactors = FALSE)
mg <- read.csv("drivers_margins.csv", stringsAsFactors = FALSE)
vars <- unique(mg$variable)
N <- sum(mg$population[mg$variable == vars[1]])
X <- list(); tot <- c(`(Intercept)` = N)
X[["(Intercept)"]] <- rep(1, nrow(fr))
for (v in vars) {
  cats <- mg[mg$variable == v, ]
  for (i in seq_len(nrow(cats))[-1]) {
    nm <- paste0("x_", v, "_", i)
    X[[nm]] <- as.numeric(fr[[paste0("m_", v)]] == cats$category[i])
    tot[nm] <- cats$population[i]
  }
}
xs <- as.data.frame(X[-1])
dat <- cbind(fr, xs)
d <- svydesign(ids = ~1, weights = ~w0, data = dat)
f <- as.formula(paste("~", paste(names(xs), collapse = " + ")))
cal <- calibrate(d, f, tot, calfun = "raking", epsilon = 1e-13, maxit = 500)
g <- weights(cal) / fr$w0
cat("raking g-weights in [", min(g), ",", max(g), "] (the analysis bounds them to [0.1, 12])\n")

# the analysis' trimming: cap at 6 x mean weight, spread the excess in proportion to the weights
w <- weights(cal); U <- 6 * mean(w); capped <- rep(FALSE, length(w))
repeat {
  over <- w > U * (1 + 1e-10)
  if (!any(over)) break
  excess <- sum(w[over] - U); w[over] <- U; capped <- capped | over
  w[!capped] <- w[!capped] * (1 + excess / sum(w[!capped]))
}
cat("trimmed", sum(capped), "weights at", U, "\n")
des <- cal
des$prob <- 1 / w

out <- list()
add <- function(case, term, quantity, value) {
  out[[length(out) + 1]] <<- data.frame(case = case, term = term, quantity = quantity,
    value = sprintf("%.17g", as.numeric(value)), stringsAsFactors = FALSE)
}
drivers <- c("sat_police_response", "sat_police_visibility", "sat_police_prevention", "sat_police_communication")
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
for (y in c("sat_police_overall", "trust_overall")) {
  fm <- as.formula(paste(y, "~", paste(drivers, collapse = " + ")))
  for (area in c("city", sort(unique(fr$district)))) {
    dd <- if (area == "city") des else subset(des, district == area)
    m <- svyglm(fm, dd, control = ctl)
    case <- paste(y, area)
    add(case, names(coef(m)), "estimate", coef(m))
    add(case, names(coef(m)), "se", SE(m))
    ci <- confint(m, df = m$df.residual)
    add(case, names(coef(m)), "ci_low", ci[, 1]); add(case, names(coef(m)), "ci_high", ci[, 2])
    add(case, names(coef(m)), "p", summary(m)$coefficients[, 4])
    add(case, "(model)", "df", m$df.residual)
    add(case, "(model)", "n", sum(weights(dd, "sampling") > 0 & complete.cases(fr[, c(y, drivers)])))
  }
}
# (summary.glm warns "observations with zero weight not used for calculating dispersion" for the
# district subsets: the zero weights are the rows outside the district, as intended)
res <- do.call(rbind, out)
write.csv(res, "r_drivers.csv", row.names = FALSE)
cat("wrote", nrow(res), "reference values\n")
