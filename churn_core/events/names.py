"""Column names that suggest each role of an event log (English, Chinese, European).

Names are normalised (lower case, no spaces, underscores or punctuation); an
exact match scores 3, a name containing one of the role's stems scores 1. The
values must still fit the role (:func:`churn_core.events.detect.values_fit`).
"""

from __future__ import annotations

from churn_core.names import normalize_name

# Normalised names (lower case, no spaces/underscores/punctuation): exact matches score 3,
# names containing one of the stems score 1.
EXACT: dict[str, tuple[str, ...]] = {
    "customer_id": ("customerid", "custid", "customer", "customerno", "clientid", "client",
                    "userid", "user", "memberid", "member", "buyerid", "accountid", "account",
                    "visitorid", "visitor", "shopperid", "email", "emailaddress",
                    "customeremail", "buyeremail", "useremail", "clientemail", "mail",
                    "phone", "phonenumber", "mobile", "kunde", "kundeid", "kundennummer",
                    "kundennr", "cliente", "idcliente", "客户id", "客户编号", "客户", "用户id",
                    "用户编号", "用户", "会员id", "会员编号", "会员", "买家id", "买家", "顾客id",
                    "顾客", "访客id", "邮箱", "手机号", "手机"),
    "timestamp": ("timestamp", "time", "date", "datetime", "invoicedate", "orderdate",
                  "eventtime", "eventdate", "createdat", "created", "ts", "datum", "fecha",
                  "时间", "日期", "下单时间", "订单时间", "交易时间", "购买时间", "支付时间",
                  "下单日期", "订单日期", "交易日期", "事件时间"),
    "event_type": ("eventtype", "event", "type", "action", "behavior", "behaviour",
                   "behaviortype", "activity", "eventname", "status", "orderstatus",
                   "transactionstatus", "financialstatus", "paymentstatus", "事件", "行为",
                   "类型", "事件类型", "行为类型", "订单状态", "状态"),
    "amount": ("amount", "revenue", "total", "sales", "value", "gmv", "spend", "payment",
               "ordervalue", "totalamount", "totalprice", "linetotal", "paymentvalue",
               "paymentamount", "amountpaid", "paidamount", "orderamount", "ordertotal",
               "grandtotal", "saleamount", "salesamount", "netsales", "transactionamount",
               "purchaseamount", "montant", "betrag",
               "umsatz", "importe", "金额", "实付金额", "总价", "销售额", "支付金额", "订单金额",
               "消费金额", "实付"),
    "quantity": ("quantity", "qty", "units", "quantities", "menge", "anzahl", "cantidad",
                 "quantité", "数量", "件数", "购买数量"),
    "unit_price": ("unitprice", "price", "prix", "preis", "precio", "单价", "价格", "商品单价"),
    "order_id": ("orderid", "order", "orderno", "invoiceno", "invoice", "invoiceid",
                 "transactionid", "transaction", "basketid", "receipt", "bestellung",
                 "bestellnummer", "commande", "pedido", "rechnung", "facture", "订单号",
                 "订单id", "订单编号", "发票号", "交易号", "流水号"),
    "product": ("product", "productid", "sku", "item", "itemid", "stockcode", "productcode",
                "artikel", "produit", "producto", "商品", "商品id", "商品编号", "产品", "产品id"),
    "category": ("category", "categoryid", "cat", "department", "productcategory", "kategorie",
                 "catégorie", "categoria", "类目", "品类", "分类", "类别"),
    "rating": ("rating", "score", "stars", "reviewscore", "评分", "星级", "评价分"),
    "return_flag": ("returns", "return", "returned", "isreturn", "isreturned", "returnflag",
                    "refund", "refunded", "isrefund", "isrefunded", "cancelled", "canceled",
                    "iscancelled", "iscanceled", "cancelflag", "退货", "是否退货", "已退货",
                    "退款"),
}
STEMS: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer", "cust", "client", "user", "member", "buyer", "visitor",
                    "kunde", "客户", "用户", "会员", "买家", "顾客", "访客"),
    "timestamp": ("date", "time", "datum", "时间", "日期"),
    "event_type": ("event", "action", "behav", "行为", "事件"),
    "amount": ("amount", "revenue", "total", "spent", "betrag", "montant", "金额",
               "销售额"),
    "quantity": ("qty", "quant", "menge", "数量"),
    "unit_price": ("price", "preis", "prix", "precio", "单价", "价格"),
    "order_id": ("order", "invoice", "transaction", "bestell", "订单"),
    "product": ("product", "sku", "item", "artikel", "商品", "产品"),
    "category": ("categor", "kategor", "类目", "品类", "分类"),
    "rating": ("rating", "star", "评分"),
    "return_flag": ("return", "refund", "cancel", "退货", "退款"),
}


def name_score(role: str, column: str) -> int:
    """How strongly the name ``column`` suggests ``role``: 3 exact, 1 a stem, 0 none."""
    n = normalize_name(column)
    if n in EXACT[role]:
        return 3
    return 1 if any(stem in n for stem in STEMS[role]) else 0
