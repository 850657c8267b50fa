# Reference numbers for the analysis' direct estimate rows of domains (issue 13, item 5): each
# wave x area (x sex) row's df, interval and Korn-Graubard interval as R's survey gives them on
# subset(design, domain).
#
#   cd tests/reference && Rscript make_domain_rows.R
#
# Reads city_three.csv (written by make_pairs.R) and builds the analysis' own design as
# make_pairs.R does: strata = wave, every row its own PSU, base weights w0, raked to the joint
# (wave x variable) margins by calibrate(calfun = "raking"). For each domain (the city of a wave,
# wave x area, wave x area x sex): df = degf(subset(cal, domain)); the share of y == 1 with
# svyciprop(method = "logit") on that subset (its confint uses df = degf(subset)); the mean of
# score with confint(svymean(...), df = degf(subset)); and the Korn-Graubard ("beta") interval.
# R's svyciprop(method = "beta") multiplies the effective n by (qt(.025, nrow(design) - 1) /
# qt(.025, degf(design)))^2, and nrow() of a subset of a *calibrated* design is the whole
# sample (the other rows are kept with weight 0); the analysis uses the domain's respondents
# (Korn & Graubard 1998), so the Korn-Graubard interval is computed here with the same qbeta
# formula and nrow = the domain's respondents (quantities ci_low:beta, ci_high:beta), and
# svyciprop's own numbers are written too (ci_low:beta_nrow, ci_high:beta_nrow).
#
# Writes r_domain_rows.csv (case, domain, quantity, value; 17 significant digits) and
# r_session_domain_rows.txt.
suppressMessages(library(survey))
options(survey.lonely.psu = "fail")

fmt <- function(x) trimws(formatC(x, digits = 17, format = "g"))
rows <- list()
add <- function(case, domain, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, domain = domain, quantity = quantity,
                                          value = fmt(as.numeric(value)), stringsAsFactors = FALSE)
}

city <- read.csv("city_three.csv", stringsAsFactors = FALSE)
waves <- c("w1", "w2", "w3")
pop <- list(
  w1 = list(age = c(young = 5200, mid = 6800, old = 8000), sex = c(female = 10400, male = 9600),
            area = c(A = 7000, B = 6000, C = 5000, D = 2000)),
  w2 = list(age = c(young = 5000, mid = 7000, old = 8400), sex = c(female = 10600, male = 9800),
            area = c(A = 7200, B = 6100, C = 5000, D = 2100)),
  w3 = list(age = c(young = 5100, mid = 7100, old = 8300), sex = c(female = 10700, male = 9800),
            area = c(A = 7300, B = 6200, C = 4900, D = 2100))
)
X <- list(); tot <- c()
for (w in waves) {
  for (a in names(pop[[w]]$age)) {
    nm <- paste0("x_", w, "_age_", a); X[[nm]] <- as.numeric(city$wave == w & city$age == a)
    tot[nm] <- pop[[w]]$age[[a]]
  }
  for (v in c("sex", "area")) {
    lv <- names(pop[[w]][[v]])
    for (a in lv[-1]) {
      nm <- paste0("x_", w, "_", v, "_", a); X[[nm]] <- as.numeric(city$wave == w & city[[v]] == a)
      tot[nm] <- pop[[w]][[v]][[a]]
    }
  }
}
dat <- cbind(city, as.data.frame(X))
d <- svydesign(ids = ~1, strata = ~wave, weights = ~w0, data = dat)
f <- as.formula(paste("~ 0 +", paste(names(tot), collapse = " + ")))
cal <- calibrate(d, f, tot, calfun = "raking", epsilon = 1e-13, maxit = 200)

one <- function(case, dom, inside) {
  sub <- cal[inside, ]
  df <- degf(sub)
  add(case, dom, "df", df)
  # share of y == 1 (logit interval on the subset's df)
  ci <- svyciprop(~I(y == 1), sub, method = "logit", na.rm = TRUE)
  add(case, dom, "share:estimate", coef(ci))
  add(case, dom, "share:ci_low", confint(ci)[1])
  add(case, dom, "share:ci_high", confint(ci)[2])
  m <- svymean(~y, sub, na.rm = TRUE)
  p <- coef(m)[[1]]; v <- vcov(m)[1, 1]
  add(case, dom, "share:se", sqrt(v))
  n_resp <- sum(inside & !is.na(dat$y))
  add(case, dom, "share:n", n_resp)
  neff <- p * (1 - p) / v * (qt(0.025, n_resp - 1) / qt(0.025, df))^2
  add(case, dom, "share:ci_low:beta", qbeta(0.025, neff * p, neff * (1 - p) + 1))
  add(case, dom, "share:ci_high:beta", qbeta(0.975, neff * p + 1, neff * (1 - p)))
  kb <- svyciprop(~I(y == 1), sub, method = "beta", na.rm = TRUE)
  add(case, dom, "share:ci_low:beta_nrow", confint(kb)[1])
  add(case, dom, "share:ci_high:beta_nrow", confint(kb)[2])
  # mean of score, t interval on the subset's df
  ms <- svymean(~score, sub, na.rm = TRUE)
  add(case, dom, "score:estimate", coef(ms))
  add(case, dom, "score:se", SE(ms))
  cs <- confint(ms, df = df)
  add(case, dom, "score:ci_low", cs[1])
  add(case, dom, "score:ci_high", cs[2])
}

for (w in waves) {
  one("city", w, dat$wave == w)
  for (a in sort(unique(dat$area))) {
    one("neighborhood", paste(w, a), dat$wave == w & dat$area == a)
    for (s in c("female", "male")) {
      one("neighborhood:sex", paste(w, a, s), dat$wave == w & dat$area == a & dat$sex == s)
    }
  }
}
out <- do.call(rbind, rows)
write.csv(out, "r_domain_rows.csv", row.names = FALSE)
writeLines(capture.output(sessionInfo()), "r_session_domain_rows.txt")
cat("wrote", nrow(out), "rows\n")
