# Reference numbers for domain degrees of freedom (svyciprop on a subset), computed with R's
# survey package, and two-stage variance with a second-stage fpc.
#
#   cd tests/reference && Rscript make_domain_df.R
#
# Writes r_domain_df.csv (long format: case, domain, quantity, value; 17 significant digits)
# and r_session_domain_df.txt.
#
# Domains: svyciprop(~I(sch.wide == "Yes"), subset(design, <domain>), method = m) uses
# df = degf(subset(...)): the PSUs with at least one row (non-zero weight) in the domain minus
# the strata with at least one such row (Korn & Graubard 1998; NCHS, Parker et al. 2017).
# R's confint for svyciprop uses that df for "beta" (Korn-Graubard), "logit", "asin", "mean"
# and "xlogit". Designs: apiclus2 (two stages dnum/snum, ultimate cluster, domains stype and
# stype x comp.imp) and apistrat (strata stype, fpc, domain comp.imp and stype x comp.imp).
#
# Two-stage fpc (cases twostage*): svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data =
# apiclus2), also linearly calibrated and with a lonely second-stage unit, against the
# ultimate-cluster design svydesign(id = ~dnum, fpc = ~fpc1, weights = ~pw) (cases ultimate*):
# means, totals, a ratio, domain means, a linear svyglm and Korn-Graubard intervals of domain
# proportions.
suppressMessages(library(survey))
options(survey.lonely.psu = "fail")

fmt <- function(x) trimws(formatC(x, digits = 17, format = "g"))
rows <- list()
add <- function(case, domain, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, domain = domain, quantity = quantity,
                                          value = fmt(as.numeric(value)), stringsAsFactors = FALSE)
}

apiclus2 <- read.csv("apiclus2.csv")
apistrat <- read.csv("apistrat.csv")
designs <- list(
  clus2 = list(d = svydesign(id = ~dnum + snum, weights = ~pw, data = apiclus2),
               by = list(c("stype"), c("stype", "comp.imp"))),
  strat = list(d = svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat),
               by = list(c("comp.imp"), c("stype", "comp.imp")))
)
methods <- c("beta", "logit", "asin", "mean", "xlogit")
for (name in names(designs)) {
  d <- designs[[name]]$d
  dat <- d$variables
  for (by in designs[[name]]$by) {
    key <- interaction(dat[by], sep = "|", drop = TRUE)
    for (lev in sort(levels(key))) {
      sub <- d[key == lev, ]
      df <- degf(sub)
      case <- paste0(name, ":", paste(by, collapse = "+"))
      add(case, lev, "df", df)
      add(case, lev, "n", sum(key == lev))
      for (m in methods) {
        ci <- svyciprop(~I(sch.wide == "Yes"), sub, method = m)
        add(case, lev, paste0("estimate:", m), coef(ci))
        add(case, lev, paste0("ci_low:", m), confint(ci)[1])
        add(case, lev, paste0("ci_high:", m), confint(ci)[2])
      }
    }
  }
}

apipop <- read.csv("apipop.csv")
N <- nrow(apipop)
api99_tot <- sum(apipop$api99)
twostage <- function(name, d) {
  for (v in list(c("mean", "api00"), c("total", "enroll"))) {
    f <- if (v[1] == "mean") svymean else svytotal
    a <- f(as.formula(paste0("~", v[2])), d, na.rm = TRUE)
    add(paste0(name, ":", v[1], ":", v[2]), "all", "estimate", coef(a))
    add(paste0(name, ":", v[1], ":", v[2]), "all", "se", SE(a))
  }
  b <- svyby(~api00, ~stype, d, svymean)
  add(paste0(name, ":mean:api00:by:stype"), as.character(b$stype), "estimate", coef(b))
  add(paste0(name, ":mean:api00:by:stype"), as.character(b$stype), "se", SE(b))
  r <- svyratio(~api.stu, ~enroll, d, na.rm = TRUE)
  add(paste0(name, ":ratio:api.stu/enroll"), "all", "estimate", coef(r))
  add(paste0(name, ":ratio:api.stu/enroll"), "all", "se", SE(r))
  g <- svyglm(api00 ~ ell + meals + mobility, d, control = glm.control(epsilon = 1e-14, maxit = 100))
  add(paste0(name, ":glm:api00~ell+meals+mobility"), names(coef(g)), "estimate", coef(g))
  add(paste0(name, ":glm:api00~ell+meals+mobility"), names(coef(g)), "se", SE(g))
  for (dom in c("E", "H", "M")) {
    sub <- subset(d, stype == dom)
    ci <- svyciprop(~I(sch.wide == "Yes"), sub, method = "beta")
    add(paste0(name, ":prop:sch.wide:by:stype"), dom, "estimate", coef(ci))
    add(paste0(name, ":prop:sch.wide:by:stype"), dom, "se", SE(ci))
    add(paste0(name, ":prop:sch.wide:by:stype"), dom, "ci_low", confint(ci)[1])
    add(paste0(name, ":prop:sch.wide:by:stype"), dom, "ci_high", confint(ci)[2])
    add(paste0(name, ":prop:sch.wide:by:stype"), dom, "df", degf(sub))
  }
}
# Two-stage variance: svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2) adds, within each
# district, the variance between its sampled schools (scaled by the first-stage sampling
# fraction); the ultimate-cluster design svydesign(id = ~dnum, fpc = ~fpc1) omits it.
d2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
d0 <- svydesign(id = ~dnum, fpc = ~fpc1, weights = ~pw, data = apiclus2)
twostage("twostage", d2)
twostage("ultimate", d0)
# linear calibration to N and the api99 total (stage-0 calibration: R's calibrate default)
twostage("twostage+calibrate", calibrate(d2, ~api99, c(N, api99_tot), epsilon = 1e-13))
# a district with one sampled school that is not completely enumerated (fpc2 = 5): R's
# survey.lonely.psu rule applies at the second stage ("fail" and "average" cannot be used)
lonely <- apiclus2
one <- names(which(table(lonely$dnum) == 1))[1]
lonely$fpc2[lonely$dnum == one] <- 5
for (opt in c("adjust", "certainty", "remove")) {
  options(survey.lonely.psu = opt)
  twostage(paste0("twostage-lonely-", opt),
           svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = lonely))
}
options(survey.lonely.psu = "fail")
add("twostage-lonely", "all", "dnum", as.numeric(one))

out <- do.call(rbind, rows)
write.csv(out, "r_domain_df.csv", row.names = FALSE)
writeLines(capture.output(sessionInfo()), "r_session_domain_df.txt")
cat("wrote", nrow(out), "rows\n")
