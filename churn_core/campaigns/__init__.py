"""Retention campaigns with a control group: start, record outcomes, measure the effect.

The front door for the command line and the app:

- :func:`start_campaign` draws a reproducible control group over an at-risk list
  and records the campaign in the store;
- :func:`upload_outcomes` records who churned afterwards (idempotent);
- :func:`campaign_report` measures the uplift with its uncertainty;
- :func:`campaign_history` lists every campaign.
"""

from churn_core.campaigns.assign import CONTACT, CONTROL, GROUP_COLUMN, CampaignPlan, plan_campaign
from churn_core.campaigns.outcomes import OutcomeUpload, upload_outcomes
from churn_core.campaigns.report import CampaignReport, campaign_history, campaign_report
from churn_core.campaigns.start import model_hash, start_campaign

__all__ = [
    "CONTACT", "CONTROL", "GROUP_COLUMN", "CampaignPlan", "CampaignReport", "OutcomeUpload",
    "campaign_history", "campaign_report", "model_hash", "plan_campaign", "start_campaign",
    "upload_outcomes",
]
