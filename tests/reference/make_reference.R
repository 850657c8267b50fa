# Reference numbers for survey_pipeline.stats, computed with R's survey package.
#
#   cd tests/reference && Rscript make_reference.R
#
# Writes r_results.csv (long format: case, domain, quantity, value; values with 17 significant
# digits) and r_session.txt (sessionInfo). The Python tests read the committed CSV; CI never
# needs R. Data: the api data sets of the survey package, exported with write.csv.
suppressMessages(library(survey))
options(survey.lonely.psu = "fail", survey.replicates.mse = FALSE)

rd <- function(f) read.csv(f, stringsAsFactors = FALSE)
apisrs <- rd("apisrs.csv"); apistrat <- rd("apistrat.csv")
apiclus1 <- rd("apiclus1.csv"); apiclus2 <- rd("apiclus2.csv"); apipop <- rd("apipop.csv")

out <- list()
add <- function(case, domain, quantity, value) {
  out[[length(out) + 1]] <<- data.frame(case = case, domain = as.character(domain),
    quantity = quantity, value = sprintf("%.17g", as.numeric(value)), stringsAsFactors = FALSE)
}
tq <- function(df) qt(0.975, df)

designs <- list(
  srs = svydesign(id = ~1, weights = ~pw, fpc = ~fpc, data = apisrs),
  strat = svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat),
  clus1 = svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1),
  clus2 = svydesign(id = ~dnum + snum, weights = ~pw, data = apiclus2)
)

# population targets
pop_stype <- table(stype = apipop$stype)
pop_sch <- table(sch.wide = apipop$sch.wide)
N <- nrow(apipop)
api99_tot <- sum(apipop$api99)

stat_rows <- function(case, est, se, df, deff = NULL, domain = "all") {
  add(case, domain, "estimate", est)
  add(case, domain, "se", se)
  add(case, domain, "ci_low", est - tq(df) * se)
  add(case, domain, "ci_high", est + tq(df) * se)
  add(case, domain, "df", rep(df, length(est)))
  if (!is.null(deff)) add(case, domain, "deff", deff)
}

basic <- function(name, d, with_deff = TRUE) {
  df <- degf(d)
  m <- svymean(~api00, d, deff = with_deff)
  stat_rows(paste0(name, ":mean:api00"), coef(m), SE(m), df, if (with_deff) deff(m))
  t <- svytotal(~enroll, d, na.rm = TRUE, deff = with_deff)
  stat_rows(paste0(name, ":total:enroll"), coef(t), SE(t), df, if (with_deff) deff(t))
  m2 <- svymean(~enroll, d, na.rm = TRUE, deff = with_deff)
  stat_rows(paste0(name, ":mean:enroll"), coef(m2), SE(m2), df, if (with_deff) deff(m2))
  r <- svyratio(~api.stu, ~enroll, d, na.rm = TRUE, deff = with_deff)
  stat_rows(paste0(name, ":ratio:api.stu/enroll"), coef(r), SE(r), df,
            if (with_deff) attr(r, "deff"))
  b <- svyby(~api00, ~stype, d, svymean, deff = with_deff, keep.var = TRUE)
  stat_rows(paste0(name, ":mean:api00:by:stype"), coef(b), SE(b), df,
            if (with_deff) deff(b), domain = b$stype)
  bt <- svyby(~enroll, ~stype, d, svytotal, na.rm = TRUE, deff = with_deff)
  stat_rows(paste0(name, ":total:enroll:by:stype"), coef(bt), SE(bt), df,
            if (with_deff) deff(bt), domain = bt$stype)
  br <- svyby(~api.stu, ~stype, d, svyratio, denominator = ~enroll, na.rm = TRUE)
  stat_rows(paste0(name, ":ratio:api.stu/enroll:by:stype"), coef(br), SE(br), df,
            domain = br$stype)
}

for (nm in names(designs)) {
  d <- designs[[nm]]
  df <- degf(d)
  basic(nm, d)
  # quantiles (survey 4.1 defaults: interval.type="mean", qrule="math")
  q <- svyquantile(~api00, d, c(0.25, 0.5, 0.75), ci = TRUE)$api00
  for (i in 1:3) {
    case <- paste0(nm, ":quantile:api00")
    dom <- c("0.25", "0.5", "0.75")[i]
    add(case, dom, "estimate", q[i, 1]); add(case, dom, "ci_low", q[i, 2])
    add(case, dom, "ci_high", q[i, 3]); add(case, dom, "se", q[i, 4])
  }
  # proportion CIs
  for (meth in c("logit", "likelihood", "asin", "beta", "mean", "xlogit")) {
    ci <- svyciprop(~I(sch.wide == "Yes"), d, method = meth)
    case <- paste0(nm, ":proportion:sch.wide=Yes:", meth)
    add(case, "all", "estimate", coef(ci)); add(case, "all", "se", SE(ci))
    add(case, "all", "ci_low", attr(ci, "ci")[1]); add(case, "all", "ci_high", attr(ci, "ci")[2])
  }
  # Wilson (not in survey 4.1): n_eff = p(1-p)/var, t critical value on the design df
  m <- svymean(~I(as.numeric(sch.wide == "Yes")), d)
  p <- coef(m)[[1]]; v <- vcov(m)[1, 1]; neff <- p * (1 - p) / v; z <- tq(df)
  den <- 1 + z^2 / neff; cen <- (p + z^2 / (2 * neff)) / den
  half <- z / den * sqrt(p * (1 - p) / neff + z^2 / (4 * neff^2))
  case <- paste0(nm, ":proportion:sch.wide=Yes:wilson")
  add(case, "all", "estimate", p); add(case, "all", "se", sqrt(v))
  add(case, "all", "ci_low", cen - half); add(case, "all", "ci_high", cen + half)
  # difference of domain means with covariance (svyby + svycontrast)
  b <- svyby(~api00, ~sch.wide, d, svymean, covmat = TRUE)
  con <- svycontrast(b, c(No = -1, Yes = 1))
  stat_rows(paste0(nm, ":difference:api00:sch.wide:Yes-No"), coef(con), SE(con), df)
  # Rao-Scott
  for (st in c("F", "Chisq")) {
    x <- svychisq(~sch.wide + stype, d, statistic = st)
    case <- paste0(nm, ":chisq:sch.wide+stype:", st)
    add(case, "all", if (st == "F") "value" else "pearson", x$statistic)
    add(case, "all", "p", x$p.value)
    add(case, "all", "ndf", x$parameter[1])
    if (st == "F") add(case, "all", "ddf", x$parameter[2])
  }
  # regression
  ctl <- glm.control(epsilon = 1e-14, maxit = 100)
  g1 <- svyglm(api00 ~ ell + meals + mobility, d, control = ctl)
  g2 <- svyglm(I(sch.wide == "Yes") ~ ell + meals, d, family = quasibinomial, control = ctl)
  for (gm in list(list("glm:gaussian:api00~ell+meals+mobility", g1),
                  list("glm:binomial:sch.wide=Yes~ell+meals", g2))) {
    g <- gm[[2]]; case <- paste0(nm, ":", gm[[1]])
    cf <- coef(g); s <- SE(g); gdf <- g$df.residual
    for (j in seq_along(cf)) {
      add(case, names(cf)[j], "estimate", cf[j]); add(case, names(cf)[j], "se", s[j])
      add(case, names(cf)[j], "ci_low", cf[j] - tq(gdf) * s[j])
      add(case, names(cf)[j], "ci_high", cf[j] + tq(gdf) * s[j])
      add(case, names(cf)[j], "df", gdf)
    }
  }
}

# Weighting: post-stratification, raking, calibration (strat, clus1)
weighted_stats <- function(name, d, df) {
  m <- svymean(~api00, d)
  stat_rows(paste0(name, ":mean:api00"), coef(m), SE(m), df)
  t <- svytotal(~enroll, d, na.rm = TRUE)
  stat_rows(paste0(name, ":total:enroll"), coef(t), SE(t), df)
  b <- svyby(~api00, ~stype, d, svymean)
  stat_rows(paste0(name, ":mean:api00:by:stype"), coef(b), SE(b), df, domain = b$stype)
  b2 <- svyby(~api00, ~sch.wide, d, svymean)
  stat_rows(paste0(name, ":mean:api00:by:sch.wide"), coef(b2), SE(b2), df, domain = b2$sch.wide)
}

for (nm in c("strat", "clus1", "srs")) {
  d <- designs[[nm]]
  df <- degf(d)
  ps <- postStratify(d, ~stype, pop_stype)
  weighted_stats(paste0(nm, "+poststratify:stype"), ps, df)
  # raking by calibrate(calfun="raking"): exact linearization; rake() approximates it
  cr <- calibrate(d, ~stype + sch.wide,
                  c(N, pop_stype[["H"]], pop_stype[["M"]], pop_sch[["Yes"]]),
                  calfun = "raking", epsilon = 1e-13, maxit = 100)
  weighted_stats(paste0(nm, "+rake:stype,sch.wide"), cr, df)
  rk <- rake(d, list(~stype, ~sch.wide), list(pop_stype, pop_sch),
             control = list(maxit = 200, epsilon = 1e-9))
  m <- svymean(~api00, rk)
  add(paste0(nm, "+rakeR:stype,sch.wide:mean:api00"), "all", "estimate", coef(m))
  add(paste0(nm, "+rakeR:stype,sch.wide:mean:api00"), "all", "se", SE(m))
  g <- calibrate(d, ~api99, c(N, api99_tot), epsilon = 1e-13)
  weighted_stats(paste0(nm, "+calibrate:linear:api99"), g, df)
  gl <- calibrate(d, ~api99, c(N, api99_tot), calfun = "logit", bounds = c(0.7, 1.5),
                  epsilon = 1e-13, maxit = 100)
  weighted_stats(paste0(nm, "+calibrate:logit(0.7,1.5):api99"), gl, df)
  # replicate designs: JK1 (unstratified) / JKn (stratified), calibration redone per replicate
  r <- as.svrepdesign(d)
  rdf <- df
  m <- svymean(~api00, r)
  stat_rows(paste0(nm, "+jackknife:mean:api00"), coef(m), SE(m), rdf)
  t <- svytotal(~enroll, r, na.rm = TRUE)
  stat_rows(paste0(nm, "+jackknife:total:enroll"), coef(t), SE(t), rdf)
  b <- svyby(~api00, ~stype, r, svymean)
  stat_rows(paste0(nm, "+jackknife:mean:api00:by:stype"), coef(b), SE(b), rdf, domain = b$stype)
  rc <- calibrate(r, ~api99, c(N, api99_tot), epsilon = 1e-13)
  m <- svymean(~api00, rc)
  stat_rows(paste0(nm, "+jackknife+calibrate:linear:api99:mean:api00"), coef(m), SE(m), rdf)
  rp <- postStratify(r, ~stype, pop_stype)
  m <- svymean(~api00, rp)
  stat_rows(paste0(nm, "+jackknife+poststratify:stype:mean:api00"), coef(m), SE(m), rdf)
}

# Lonely PSUs: apistrat with the high-school stratum cut to one school
lonely <- rbind(apistrat[apistrat$stype != "H", ], apistrat[apistrat$stype == "H", ][1, ])
for (opt in c("adjust", "average", "remove", "certainty")) {
  options(survey.lonely.psu = opt)
  d <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = lonely)
  m <- svymean(~api00, d)
  stat_rows(paste0("lonely-", opt, ":mean:api00"), coef(m), SE(m), degf(d))
  t <- svytotal(~enroll, d)
  stat_rows(paste0("lonely-", opt, ":total:enroll"), coef(t), SE(t), degf(d))
}
options(survey.lonely.psu = "fail")

res <- do.call(rbind, out)
write.csv(res, "r_results.csv", row.names = FALSE)
writeLines(capture.output(sessionInfo()), "r_session.txt")
cat("wrote", nrow(res), "reference values\n")
