"""The web pages: storefront, buyer portal, seller dashboard, Alipay balance, login."""

urlpatterns: list = []
